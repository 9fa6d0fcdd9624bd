"""Sample configs load; systemd units verify (with ExecStart pointed at the built binaries)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from switchman.agent import config as agent_config
from switchman.controller import config as controller_config

from tests.helpers import BIN

ROOT = Path(__file__).resolve().parents[2]


def test_sample_configs_load(tmp_path: Path) -> None:
    a = agent_config.load(
        str(ROOT / "packaging/etc/agent.toml"),
        {"controller": "127.0.0.1:7000", "data_dir": str(tmp_path / "a")},
    )
    assert a.labels == {"role": "web", "zone": "eu-west-1a"} and a.interval == 10.0 and a.spool_max_bytes == 256 * 2**20
    c = controller_config.load(str(ROOT / "packaging/etc/controller.toml"), {"data_dir": str(tmp_path / "c")})
    assert c.raw_retention == 48 * 3600 and c.heartbeat_ttl == 30.0


@pytest.mark.parametrize("daemon", ["agent", "controller"])
def test_systemd_unit_verifies(tmp_path: Path, daemon: str) -> None:
    unit = (ROOT / f"systemd/switchman-{daemon}.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    path = tmp_path / f"switchman-{daemon}.service"
    path.write_text(unit.replace(f"/opt/switchman/{daemon}/bin/switchman-{daemon}", str(BIN / f"switchman-{daemon}")))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_grafana_dashboard_queries_parse_and_name_metrics_we_export() -> None:
    import json
    import re

    from switchman.controller.promql.parser import parse

    dash = json.loads((ROOT / "packaging/grafana/switchman.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    sources = "\n".join(p.read_text() for p in ROOT.glob("*/switchman/**/*.py"))
    for expr in exprs:
        parse(expr.replace("$__rate_interval", "5m"))
        for name in re.findall(r"\b(switchman_[a-z_]+?)(?:_bucket|_total)?\b(?![a-z_])", expr):
            assert f'"{name}' in sources, f"{name} (in {expr!r}) is not exported by the agent or controller"


def test_controller_container_file_copies_what_exists_and_runs_valid_flags() -> None:
    import json

    from switchman.controller.main import build_parser

    text = (ROOT / "packaging/Containerfile.controller").read_text()
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            src = line.split()[1]
            assert (ROOT / src).exists(), f"{src} does not exist"
    cmd = next(line for line in text.splitlines() if line.startswith("CMD "))
    build_parser().parse_args(json.loads(cmd[4:]))  # exits 2 on an unknown flag
