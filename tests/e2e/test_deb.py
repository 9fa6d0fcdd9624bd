"""`make deb` for the agent: the package holds the virtual environment,
unit, conffile and maintainer scripts; it installs into a throwaway root
with `dpkg --root`, and the agent runs from there (the root's /opt overlaid
on /opt in a private mount namespace), and its unit verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BIN

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def sh(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)


def test_agent_deb_installs_into_a_throwaway_root_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    r = sh(str(BIN / "pip"), "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT / "proto"), str(ROOT / "agent"))
    assert r.returncode == 0, r.stderr
    r = sh(
        sys.executable,
        str(ROOT / "packaging/deb/build.py"),
        "agent",
        "--dist",
        str(dist),
        "--out",
        str(tmp_path / "deb"),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    deb = tmp_path / "deb/switchman-agent_0.1.0_amd64.deb"
    listing = sh("dpkg-deb", "-c", str(deb)).stdout
    for path in (
        "./opt/switchman/agent/bin/switchman-agent",
        "./lib/systemd/system/switchman-agent.service",
        "./etc/switchman/agent.toml",
        "./usr/bin/switchman-agent -> /opt/switchman/agent/bin/switchman-agent",
    ):
        assert path in listing, path
    info = tmp_path / "info"
    assert sh("dpkg-deb", "-e", str(deb), str(info)).returncode == 0
    assert (info / "conffiles").read_text() == "/etc/switchman/agent.toml\n"
    postinst = (info / "postinst").read_text()
    assert "adduser --system" in postinst and "systemctl enable switchman-agent.service" in postinst
    assert "systemctl start" not in postinst, "enabled, not started"

    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
        (root / d).mkdir(parents=True)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    r = sh("dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless", "--log=/dev/null", "-i", str(deb))
    assert r.returncode == 0, r.stderr
    assert "Status: install ok installed" in (root / "var/lib/dpkg/status").read_text()
    inside = (
        f"mount -t overlay overlay -o lowerdir={root / 'opt'}:/opt /opt && "
        "/opt/switchman/agent/bin/switchman-agent --version && "
        f"systemd-analyze verify {root / 'lib/systemd/system/switchman-agent.service'}"
    )
    r = sh("unshare", "--mount", "--propagation", "private", "sh", "-c", inside)
    assert r.returncode == 0 and "switchman-agent 0.1.0" in r.stdout, r.stdout + r.stderr
