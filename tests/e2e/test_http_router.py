"""``protocol = "http"`` end to end: a real controller and agent on mTLS, an
app that keeps connections alive and dies at once on SIGTERM, and wrk's 16
keep-alive connections on the front port while the service switches and
rolls back warm. No request may fail, with the builtin router and with
HAProxy; the routers' request counts match what wrk sent and reach the
controller."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import (
    Daemon,
    body_of,
    free_port,
    hello_service,
    series_values,
    start_tls_controller,
    tls_agent_argv,
    wait_until,
)
from tests.helpers import switchman as sm

pytestmark = pytest.mark.slow  # wrk and haproxy: make system-deps installs them (make test does)
APP = Path(__file__).resolve().parents[1] / "keepalive_app.py"
LOAD_CAP_S = 60  # wrk is stopped (SIGINT: it reports) once the rollback is done and load flows on


def wrk_result(text: str) -> tuple[int, int]:
    """(requests completed, requests failed: socket errors and non-2xx) from wrk's report."""
    m = re.search(r"(\d+) requests in", text)
    assert m, text
    failed = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return int(m.group(1)), failed + (int(non2xx.group(1)) if non2xx else 0)


def requests_counted(address: str, port: int) -> dict[tuple[str, str], float]:
    """``switchman_service_requests_total`` of the agent's /metrics, summed per (slot, version)."""
    with urllib.request.urlopen(f"http://{address}:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out: dict[tuple[str, str], float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "switchman_service_requests_total" and s.labels["service"] == "web":
                key = (s.labels["slot"], s.labels["version"])
                out[key] = out.get(key, 0.0) + s.value
    return out


@pytest.mark.parametrize("router", ["builtin", "haproxy"])
def test_switch_and_warm_rollback_under_keep_alive_load_fail_no_request(
    router: str, tmp_path: Path, daemons: list[Daemon]
) -> None:
    if router == "haproxy" and shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed: run `make system-deps` (make test does)")
    tls = start_tls_controller(tmp_path, daemons, ("web-1",))
    address = "127.0.0.71" if router == "builtin" else "127.0.0.72"
    metrics_port = free_port(address)
    argv = tls_agent_argv(tls, tmp_path / "a", "web-1", address, "--metrics-listen", f"{address}:{metrics_port}")
    daemons.append(Daemon(argv, tmp_path / "a.log").start())
    cli = tls.cli_args(tmp_path / "c")
    wait_until(lambda: "web-1" in sm(*cli, "hosts").stdout, 20, what="agent registered")

    app = tmp_path / "app.py"  # under tmp_path: the fixture's clean-up finds every slot process
    shutil.copy(APP, app)
    front, blue, green = free_port(address), free_port(address), free_port(address)
    (tmp_path / "web.toml").write_text(f"""
{hello_service(app, front, blue, green, name="web")}
protocol = "http"
router = "{router}"
drain_timeout = "5s"
healthy_deadline = "10s"
[probe]
kind = "http"
path = "/health"
interval = "200ms"
timeout = "200ms"
success_before_passing = 2
""")
    r = sm(*cli, "service", "apply", str(tmp_path / "web.toml"))
    assert r.returncode == 0, r.stderr
    assert sm(*cli, "service", "switch", "web", "--host", "web-1", "--version", "1").returncode == 0
    assert "hello from 1 (blue)" in body_of(address, front)

    wrk = subprocess.Popen(
        ["wrk", "-t2", "-c16", f"-d{LOAD_CAP_S}s", "--timeout", "5s", f"http://{address}:{front}/"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: sum(requests_counted(address, metrics_port).values()) > 500, 5, what="load flowing")
        r = sm(*cli, "-o", "json", "service", "switch", "web", "--host", "web-1", "--version", "2")
        assert r.returncode == 0 and json.loads(r.stdout)["active_slot"] == "green", r.stderr
        r = sm(*cli, "-o", "json", "service", "rollback", "web", "--host", "web-1")
        assert r.returncode == 0 and json.loads(r.stdout)["active_version"] == "1", r.stderr
        after = sum(requests_counted(address, metrics_port).values())
        wait_until(
            lambda: sum(requests_counted(address, metrics_port).values()) > after + 500, 10, what="load after rollback"
        )
        assert wrk.poll() is None, "the switch and the rollback took longer than the load"
        wrk.send_signal(signal.SIGINT)
        out, _ = wrk.communicate(timeout=20)
    finally:
        if wrk.poll() is None:
            wrk.kill()
    sent, failed = wrk_result(out)
    assert failed == 0, out
    assert sent > 2000, out

    def counted() -> dict[tuple[str, str], float]:
        c = requests_counted(address, metrics_port)
        return c if abs(sum(c.values()) - sent) <= sent * 0.01 else {}

    per_slot = wait_until(counted, 10, what=f"the router's request counts to reach wrk's {sent}")
    # both versions served under load: green (2) between the switch and the rollback, blue (1) around it
    assert per_slot.get(("blue", "1"), 0) > 0 and per_slot.get(("green", "2"), 0) > 0, per_slot
    assert "hello from 1 (blue)" in body_of(address, front)
    db = tmp_path / "c" / "controller.db"
    wait_until(
        lambda: series_values(db, "switchman_service_requests_total", "web-1"), 20, what="series at the controller"
    )
    if router == "builtin":
        wait_until(
            lambda: series_values(db, "switchman_service_request_duration_seconds_count", "web-1"),
            20,
            what="the histogram at the controller",
        )
