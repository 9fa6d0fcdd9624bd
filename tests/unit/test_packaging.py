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
