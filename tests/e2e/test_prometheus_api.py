"""The controller's Prometheus HTTP API with real clients: Debian's promtool
(basic auth with the token as the password), a real Prometheus that finds the
agents through the controller's HTTP service discovery and scrapes them, and
the request shapes Grafana's Prometheus data source sends. The same queries
through promtool against the controller and against that Prometheus give the
same series (and the same values where the value does not move between a
push and a scrape)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Daemon, agent_argv, controller_argv, free_port, start_tls_controller, wait_until

pytestmark = pytest.mark.slow

PROMTOOL = shutil.which("promtool") or "promtool"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
HOSTS = {"web-1": "127.0.0.61", "web-2": "127.0.0.62"}


@dataclass
class Api:
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(
        self, path: str, params: dict[str, Any] | list[tuple[str, str]] | None = None, *, post: bool = False, **kw: Any
    ) -> tuple[int, Any]:
        """One request; ``(status, decoded JSON body)``. ``auth`` overrides the Authorization header."""
        query = urllib.parse.urlencode(params or {}, doseq=True)
        headers = {"Authorization": kw.get("auth", f"Bearer {self.token}")}
        if post:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            req = urllib.request.Request(self.url + path, data=query.encode(), headers=headers, method="POST")
        else:
            req = urllib.request.Request(self.url + path + (f"?{query}" if query else ""), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def promtool(self, *argv: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
        """``promtool query ...`` against the controller, the token as basic auth's password."""
        server = url or f"http://switchman:{self.token}@127.0.0.1:{self.port}"
        cmd, *rest = argv
        return subprocess.run(
            [PROMTOOL, "query", cmd, "-o", "json", server, *rest], capture_output=True, text=True, timeout=60
        )


@pytest.fixture
def fleet(tmp_path: Path, daemons: list[Daemon]) -> Api:
    port, http = free_port(), free_port()
    argv = controller_argv(
        tmp_path / "c", port, None, "--heartbeat-interval", "500ms", "--http-listen", f"127.0.0.1:{http}"
    )
    daemons.append(Daemon(argv, tmp_path / "c.log").start())
    wait_until(lambda: (tmp_path / "c" / "admin.token").exists(), 20, what="the controller")
    for host, address in HOSTS.items():
        extra = ("--interval", "1s", "--metrics-listen", f"{address}:0")
        daemons.append(Daemon([*agent_argv(tmp_path / host, port, address, host), *extra], tmp_path / f"{host}.log"))
        daemons[-1].start()
    api = Api(http, (tmp_path / "c" / "admin.token").read_text().strip())
    for expr in ("node_load1", "up == 1"):
        wait_until(
            lambda: len(api.call("/api/v1/query", {"query": expr})[1]["data"]["result"]) == len(HOSTS),  # noqa: B023
            30,
            what=f"{expr} of both hosts",
        )
    return api


def test_promtool_reads_the_controller_and_errors_come_back_in_prometheus_shape(fleet: Api) -> None:
    # series carry job and instance as Prometheus' target labels (the mixin selects job="node")
    out = fleet.promtool("instant", 'node_load1{job="node"}')
    assert out.returncode == 0, out.stderr
    got = {r["metric"]["instance"]: r["metric"] for r in json.loads(out.stdout)}
    assert set(got) == set(HOSTS)
    assert got["web-1"] == {"__name__": "node_load1", "host": "web-1", "instance": "web-1", "job": "node"}
    up = json.loads(fleet.promtool("instant", "up").stdout)
    assert {(r["metric"]["job"], r["metric"]["instance"], r["value"][1]) for r in up} == {
        ("node", h, "1") for h in HOSTS
    }

    def ranged() -> list[dict[str, Any]]:
        now = time.time()
        expr = 'rate(node_cpu_seconds_total{mode="idle"}[5s])'
        out = fleet.promtool("range", f"--start={now - 20:.3f}", f"--end={now:.3f}", "--step=2s", expr)
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout))

    series = wait_until(ranged, 30, interval=0.5, what="a rate over two pushes")
    assert series and all(s["metric"]["job"] == "node" and "__name__" not in s["metric"] for s in series)
    assert all(0 <= float(v) <= 1.5 for s in series for _, v in s["values"])  # an idle fraction per CPU

    listed = fleet.promtool("series", "--match=node_load1", "--match=up{instance='web-2'}")
    assert listed.returncode == 0, listed.stderr
    names = sorted((s["__name__"], s["instance"]) for s in json.loads(listed.stdout))
    assert names == [("node_load1", "web-1"), ("node_load1", "web-2"), ("up", "web-2")]
    jobs = fleet.promtool("labels", "job")
    assert jobs.returncode == 0 and "node" in json.loads(jobs.stdout), jobs
    assert set(json.loads(jobs.stdout)) <= {"node", "switchman-controller"}  # the controller stores its own too

    # errors: Prometheus' status codes and error documents
    status, body = fleet.call("/api/v1/query", {"query": "sum(rate(x[5m])"})
    assert status == 400 and body["status"] == "error" and body["errorType"] == "bad_data", body
    assert "1:16" in body["error"]  # the position
    status, body = fleet.call(
        "/api/v1/query", {"query": "node_cpu_seconds_total + on(instance) node_cpu_seconds_total"}
    )
    assert status == 422 and body["errorType"] == "execution" and "many-to-many" in body["error"], body
    status, body = fleet.call("/api/v1/query_range", {"query": "up", "start": "10", "end": "5", "step": "1"})
    assert status == 400 and "end timestamp must not be before start time" in body["error"]
    status, body = fleet.call("/api/v1/query_range", {"query": "up", "start": "0", "end": "100000", "step": "1"})
    assert status == 400 and "11,000 points" in body["error"]
    assert fleet.call("/api/v1/series", {})[0] == 400
    denied = fleet.promtool("instant", "up", url=f"http://127.0.0.1:{fleet.port}")
    assert denied.returncode != 0 and "401" in denied.stderr
    status, body = fleet.call("/api/v1/labels", auth="Bearer not-a-token")
    assert status == 401 and body["errorType"] == "unauthorized"
    basic = base64.b64encode(f"grafana:{fleet.token}".encode()).decode()
    assert fleet.call("/api/v1/labels", auth=f"Basic {basic}")[0] == 200
    with urllib.request.urlopen(f"{fleet.url}/-/healthy", timeout=5) as resp:  # no token needed
        assert resp.status == 200


def test_grafana_request_shapes(fleet: Api) -> None:
    """What Grafana's Prometheus data source sends: the health check's buildinfo,
    a form POST to query_range, label and series browsing, metadata."""
    status, body = fleet.call("/api/v1/status/buildinfo")
    assert status == 200 and body["data"]["version"].startswith("2.")
    now = int(time.time()) + 1  # Grafana aligns start and end to the step; this end is past every push so far
    end = (now // 15 + 1) * 15
    form = {"query": "sum by (instance) (node_memory_MemTotal_bytes)", "start": end - 60, "end": end, "step": 15}
    status, body = fleet.call("/api/v1/query_range", form, post=True)
    assert status == 200 and body["data"]["resultType"] == "matrix", body
    assert {s["metric"]["instance"] for s in body["data"]["result"]} == set(HOSTS)
    assert all(ts % 15 == 0 for s in body["data"]["result"] for ts, _ in s["values"])
    status, body = fleet.call("/api/v1/query", {"query": "1+1", "time": now}, post=True)
    assert body["data"] == {"resultType": "scalar", "result": [now, "2"]}
    status, body = fleet.call("/api/v1/label/__name__/values", {"start": now - 3600, "end": now})
    assert status == 200 and "node_load1" in body["data"] and body["data"] == sorted(body["data"])
    status, body = fleet.call("/api/v1/labels", [("match[]", "node_filesystem_avail_bytes")], post=True)
    assert {"device", "fstype", "mountpoint", "instance", "job"} <= set(body["data"])
    params = [("match[]", '{__name__=~"node_load.*", instance="web-2"}'), ("start", str(now - 600)), ("end", str(now))]
    status, body = fleet.call("/api/v1/series", params)
    assert status == 200 and sorted(s["__name__"] for s in body["data"]) == ["node_load1", "node_load15", "node_load5"]
    status, body = fleet.call("/api/v1/label/instance/values", [("match[]", "up")])
    assert body["data"] == sorted(HOSTS)
    assert fleet.call("/api/v1/metadata")[1] == {"status": "success", "data": {}}
    status, body = fleet.call("/api/v1/targets")
    assert {(t["labels"]["instance"], t["health"]) for t in body["data"]["activeTargets"]} == {(h, "up") for h in HOSTS}
    assert fleet.call("/api/v1/rules")[1]["data"] == {"groups": []}
    assert fleet.call("/api/v1/alerts")[1]["data"] == {"alerts": []}
    assert fleet.call("/api/v1/query_exemplars", {"query": "up"})[1]["data"] == []
    assert "rule_files" in fleet.call("/api/v1/status/config")[1]["data"]["yaml"]
    # the controller's own metrics are stored too, as a Prometheus scraping it would: the shipped dashboard reads them
    own = wait_until(
        lambda: fleet.call("/api/v1/query", {"query": 'switchman_hosts{job="switchman-controller"}'})[1]["data"][
            "result"
        ],
        20,
        what="the controller's own series",
    )
    # (recorded every 15 s from a second after start: the hosts may not have registered by the first one)
    assert {r["metric"]["state"] for r in own} == {"up", "down"} and all(float(r["value"][1]) >= 0 for r in own)
    # the shipped dashboard, with the controller as its data source: every panel's query answers
    board = json.loads((Path(__file__).parents[2] / "packaging" / "grafana" / "switchman.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    later = int(time.time()) + 1  # past the controller's own first record, which the wait above saw
    answered = {
        e: fleet.call("/api/v1/query_range", {"query": e, "start": later - 300, "end": later, "step": 15})
        for e in exprs
    }
    assert exprs and all(status == 200 for status, _ in answered.values()), answered
    with_data = [e for e, (_, body) in answered.items() if body["data"]["result"]]
    assert {"node_load1", "sum by (state) (switchman_hosts)", "sum(switchman_agent_controller_connected)"} <= set(
        with_data
    )


def test_a_real_prometheus_discovers_and_scrapes_the_fleet_and_answers_like_the_controller(
    fleet: Api, tmp_path: Path, daemons: list[Daemon]
) -> None:
    prom_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: node\n"
        "    http_sd_configs:\n"
        f"      - url: {fleet.url}/api/v1/sd\n"
        "        refresh_interval: 1s\n"
        f"        authorization: {{type: Bearer, credentials: {fleet.token}}}\n"
    )
    daemons.append(
        Daemon(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            tmp_path / "prometheus.log",
        ).start()
    )
    prom = f"http://127.0.0.1:{prom_port}"

    def scraped() -> bool:
        out = subprocess.run(
            [PROMTOOL, "query", "instant", "-o", "json", prom, 'up{job="node"} == 1'], capture_output=True, text=True
        )
        return out.returncode == 0 and len(json.loads(out.stdout)) == len(HOSTS)

    wait_until(scraped, 60, interval=0.5, what="Prometheus scraping both agents (found through /api/v1/sd)")
    # same series, and the same values where nothing moves between a push and a scrape
    for expr in (
        "node_memory_MemTotal_bytes",
        "count by (job, instance, mode) (node_cpu_seconds_total)",
        'sum by (instance) (node_filesystem_size_bytes{fstype!~"tmpfs|overlay"})',
        'count by (instance) (up{job="node"} == 1)',
    ):
        theirs = subprocess.run(
            [PROMTOOL, "query", "instant", "-o", "json", prom, expr], capture_output=True, text=True, timeout=30
        )
        ours = fleet.promtool("instant", expr)
        assert theirs.returncode == 0 and ours.returncode == 0, (theirs.stderr, ours.stderr)

        def shape(out: str) -> dict[str, str]:
            return {json.dumps(r["metric"], sort_keys=True): r["value"][1] for r in json.loads(out)}

        assert shape(ours.stdout) == shape(theirs.stdout), expr
    # a gauge that moves: the same series either way
    theirs = subprocess.run(
        [PROMTOOL, "query", "series", "-o", "json", "--match=node_load1", prom], capture_output=True, text=True
    )
    ours = fleet.promtool("series", "--match=node_load1")
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)


def test_with_tls_the_api_is_https_with_the_controllers_certificate(tmp_path: Path, daemons: list[Daemon]) -> None:
    http = free_port()
    tls = start_tls_controller(tmp_path, daemons, (), "--http-listen", f"127.0.0.1:{http}")
    token = (tmp_path / "c" / "admin.token").read_text().strip()
    ca = tls.pki / "ca.pem"
    # Go clients (promtool, Prometheus, Grafana) trust the CA named by SSL_CERT_FILE
    env = {**os.environ, "SSL_CERT_FILE": str(ca)}
    out = subprocess.run(
        [PROMTOOL, "query", "instant", "-o", "json", f"https://u:{token}@127.0.0.1:{http}", "vector(1)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert [r["value"][1] for r in json.loads(out.stdout)] == ["1"]
    # without the CA the certificate is not trusted; plain HTTP is not served
    untrusted = subprocess.run(
        [PROMTOOL, "query", "instant", f"https://u:{token}@127.0.0.1:{http}", "vector(1)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"},
        timeout=30,
    )
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr
    plain = subprocess.run(
        [PROMTOOL, "query", "instant", f"http://u:{token}@127.0.0.1:{http}", "vector(1)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plain.returncode != 0
