"""Rules written as the node exporter mixin writes them (its selectors,
`job="node"`, and the families it reads) fire on a real condition through
the real agent: a small tmpfs mounted for the test, filled almost to the
brim in bytes and in inodes, then remounted read-only (the mixin's disk
alerts `and` on node_filesystem_readonly, so they resolve). Its recording
rules produce their series."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_prometheus_api import Api
from tests.helpers import Daemon, agent_argv, controller_argv, free_port, wait_until

pytestmark = pytest.mark.slow

# our own file, in the mixin's style: its alert names, expressions and selectors (short `for` for a test)
RULES = """
groups:
  - name: node-exporter
    interval: 1s
    rules:
      - alert: NodeFilesystemAlmostOutOfSpace
        expr: |
          (
            node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node",fstype!="",mountpoint!=""} * 100 < 5
          and
            node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0
          )
        for: 1s
        labels: {severity: warning}
        annotations:
          summary: Filesystem has less than 5% space left.
          description: Filesystem on {{ $labels.device }}, mounted on {{ $labels.mountpoint }}, at {{ $labels.instance }} has only {{ printf "%.2f" $value }}% available space left.
      - alert: NodeFilesystemAlmostOutOfFiles
        expr: |
          (
            node_filesystem_files_free{job="node",fstype!="",mountpoint!=""} / node_filesystem_files{job="node",fstype!="",mountpoint!=""} * 100 < 5
          and
            node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0
          )
        for: 1s
        labels: {severity: warning}
        annotations:
          summary: Filesystem has less than 5% inodes left.
  - name: node-exporter.rules
    interval: 1s
    rules:
      - record: instance:node_num_cpu:sum
        expr: count without (cpu, mode) (node_cpu_seconds_total{job="node",mode="idle"})
      - record: instance:node_memory_utilisation:ratio
        expr: |
          1 - (
            node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"}
          )
      - record: instance:node_filesystem_readonly:max
        expr: max without (device, fstype) (node_filesystem_readonly{job="node"})
"""


def mount(*argv: str) -> None:
    subprocess.run(["mount", *argv], check=True, capture_output=True, timeout=30)


def test_the_mixins_disk_alerts_fire_and_resolve_on_a_real_filesystem(tmp_path: Path, daemons: list[Daemon]) -> None:
    fill = tmp_path / "fill"
    fill.mkdir()
    mount("-t", "tmpfs", "-o", "size=4m,nr_inodes=200", "tmpfs", str(fill))
    try:
        run(tmp_path, fill, daemons)
    finally:
        subprocess.run(["umount", "-l", str(fill)], capture_output=True, timeout=30)


def run(tmp_path: Path, fill: Path, daemons: list[Daemon]) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    port, http = free_port(), free_port()
    argv = controller_argv(
        tmp_path / "c", port, None, "--http-listen", f"127.0.0.1:{http}", "--rule-file", str(tmp_path / "rules.yml")
    )
    daemons.append(Daemon(argv, tmp_path / "c.log").start())
    wait_until(lambda: (tmp_path / "c" / "admin.token").exists(), 20, what="the controller")
    daemons.append(
        Daemon(
            agent_argv(tmp_path / "a", port, "127.0.0.81", "web-1", "--interval", "500ms"), tmp_path / "a.log"
        ).start()
    )
    api = Api(http, (tmp_path / "c" / "admin.token").read_text().strip())

    def result(expr: str) -> list[dict[str, Any]]:
        status, body = api.call("/api/v1/query", {"query": expr})
        assert status == 200, body
        return list(body["data"]["result"])

    def alerts() -> dict[str, dict[str, Any]]:
        _, body = api.call("/api/v1/alerts")
        return {
            a["labels"]["alertname"]: a for a in body["data"]["alerts"] if a["labels"].get("mountpoint") == str(fill)
        }

    on_fill = f'{{job="node", mountpoint="{fill}"}}'
    wait_until(lambda: result(f"node_filesystem_readonly{on_fill} == 0"), 30, what="the tmpfs in the agent's reading")
    assert not alerts()
    [cpus] = wait_until(
        lambda: result('instance:node_num_cpu:sum{instance="web-1", job="node"}'), 30, what="a recording rule"
    )
    assert int(cpus["value"][1]) == os.cpu_count()
    [used] = result("instance:node_memory_utilisation:ratio")
    assert 0 < float(used["value"][1]) < 1

    # almost full: in bytes (a file of 98% of it) and in inodes (190 of 200)
    (fill / "blob").write_bytes(b"\0" * (4 * 1024 * 1024 * 98 // 100))
    for i in range(190):
        (fill / f"f{i}").touch()
    firing = wait_until(
        lambda: (
            (a := alerts())
            and {n for n, x in a.items() if x["state"] == "firing"}
            >= {"NodeFilesystemAlmostOutOfSpace", "NodeFilesystemAlmostOutOfFiles"}
            and a
        ),
        30,
        what="both disk alerts firing",
    )
    space = firing["NodeFilesystemAlmostOutOfSpace"]
    assert space["labels"]["instance"] == "web-1" and space["labels"]["fstype"] == "tmpfs"
    assert space["annotations"]["description"].startswith(f"Filesystem on tmpfs, mounted on {fill}, at web-1 has only ")

    # read-only: nothing more can be written, so the mixin does not page for space
    mount("-o", "remount,ro", str(fill))
    wait_until(lambda: result(f"node_filesystem_readonly{on_fill} == 1"), 30, what="readonly 1 after the remount")
    wait_until(lambda: not alerts(), 30, what="the disk alerts resolving on a read-only filesystem")
    [ro] = wait_until(
        lambda: result(f'instance:node_filesystem_readonly:max{{mountpoint="{fill}"}}'), 30, what="recorded readonly"
    )
    assert ro["value"][1] == "1"
