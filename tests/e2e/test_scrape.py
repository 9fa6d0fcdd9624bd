"""Scraping through the real path: an agent scrapes Debian's node_exporter
(a `[[scrape]]` table) and the sample service's own /metrics on each running
slot (`metrics_path`), through its spool to the controller, where the series
answer with their job, instance and slot labels; a target that stops answering
is down and its series go stale at once, not 5 minutes later."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_prometheus_api import Api
from tests.e2e.test_rollouts import HOSTS, start_fleet
from tests.helpers import Daemon, agent_argv, body_of, controller_argv, free_port, wait_until

pytestmark = pytest.mark.slow

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"


def test_an_agent_scrapes_node_exporter_and_marks_it_stale_when_it_stops(tmp_path: Path, daemons: list[Daemon]) -> None:
    exporter_port, port, http = free_port(), free_port(), free_port()
    exporter = Daemon(
        [
            NODE_EXPORTER,
            f"--web.listen-address=127.0.0.1:{exporter_port}",
            "--collector.disable-defaults",
            "--collector.loadavg",
            "--collector.time",
        ],
        tmp_path / "node_exporter.log",
    )
    daemons.append(exporter.start())
    daemons.append(
        Daemon(
            controller_argv(tmp_path / "c", port, None, "--http-listen", f"127.0.0.1:{http}"), tmp_path / "c.log"
        ).start()
    )
    wait_until(lambda: (tmp_path / "c" / "admin.token").exists(), 20, what="the controller")
    (tmp_path / "agent.toml").write_text(
        "[[scrape]]\n"
        'job = "node_exporter"\n'
        f'url = "http://127.0.0.1:{exporter_port}/metrics"\n'
        'interval = "500ms"\n'
        "[[scrape.metric_relabel]]\n"
        'action = "drop"\n'
        'regex = "go_.*"\n'
    )
    argv = agent_argv(
        tmp_path / "a", port, "127.0.0.71", "web-1", "--interval", "500ms", "--config", str(tmp_path / "agent.toml")
    )
    daemons.append(Daemon(argv, tmp_path / "a.log").start())
    api = Api(http, (tmp_path / "c" / "admin.token").read_text().strip())
    instance = f"127.0.0.1:{exporter_port}"

    def result(expr: str) -> list[dict[str, Any]]:
        status, body = api.call("/api/v1/query", {"query": expr})
        assert status == 200, body
        return list(body["data"]["result"])

    [load] = wait_until(lambda: result('node_load1{job="node_exporter"}'), 30, what="scraped node_load1")
    assert load["metric"] == {"__name__": "node_load1", "job": "node_exporter", "instance": instance, "host": "web-1"}
    [up] = result('up{job="node_exporter"}')
    assert up["value"][1] == "1" and up["metric"]["instance"] == instance
    assert float(result('scrape_duration_seconds{job="node_exporter"}')[0]["value"][1]) > 0
    assert not result('{job="node_exporter", __name__=~"go_.*"}')  # metric_relabel dropped them
    assert result('node_exporter_build_info{job="node_exporter"}')
    # the agent's own node_load1 is there too, under job="node": two series, two jobs
    assert {r["metric"]["job"] for r in result("node_load1")} == {"node", "node_exporter"}
    _, body = api.call("/api/v1/targets")
    health = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in body["data"]["activeTargets"]}
    assert health == {("node", "web-1"): "up", ("node_exporter", instance): "up"}

    exporter.terminate()
    stopped = time.time()
    wait_until(lambda: result('up{job="node_exporter"} == 0'), 20, what="up 0 once node_exporter stops")
    wait_until(lambda: not result('node_load1{job="node_exporter"}'), 20, what="the scraped series going stale")
    assert time.time() - stopped < 20  # not the 5 minute lookback
    assert result('node_load1{job="node"}')  # the agent's own series carry on


def test_running_slots_are_scraped_with_their_service_slot_and_version(tmp_path: Path, daemons: list[Daemon]) -> None:
    fleet = start_fleet(tmp_path, daemons)
    spec = (tmp_path / "hello.toml").read_text().replace("[probe]", 'metrics_path = "/metrics"\n[probe]', 1)
    (tmp_path / "hello.toml").write_text(spec)
    assert fleet.run("service", "apply", str(tmp_path / "hello.toml")).returncode == 0
    started = fleet.run(
        "rollout", "start", "hello", "--version", "1", "--max-parallel", "3", "--min-healthy", "1s", "--watch"
    )
    assert started.returncode == 0, started.stdout + started.stderr

    def query(expr: str) -> list[dict[str, Any]]:
        out = fleet.run("-o", "json", "query", expr)
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout)["result"])

    def scraped() -> list[dict[str, Any]] | None:
        r = query('hello_build_info{version="1"}')
        return r if len(r) == 3 else None

    try:
        info = wait_until(scraped, 30, what="three scraped slots")
    except AssertionError:
        everything = query('{job="hello"}')
        raise AssertionError(f"scraped: {everything}") from None
    addresses = dict(HOSTS)
    for r in info:
        labels = r["metric"]
        assert labels["job"] == "hello" and labels["service"] == "hello" and labels["slot"] in ("blue", "green")
        # the instance is the slot's back port on the host's service address
        assert labels["instance"].rsplit(":", 1)[0] == addresses[labels["host"]]
    for _, address in HOSTS:
        for _ in range(5):
            assert body_of(address, fleet.front).startswith("hello from 1")
    wait_until(
        lambda: (r := query('sum(hello_http_requests_total{route="/", code="200"})')) and float(r[0]["value"][1]) >= 15,
        30,
        what="the requests counted by the slots' own /metrics",
    )
