"""Builds one Debian package per daemon plus one for the CLI:

    python packaging/deb/build.py [--out build/deb] [agent controller cli]

Each installs its own virtual environment under ``/opt/switchman/<name>``
(made with Debian's ``/usr/bin/python3``, the wheels from ``make dist`` and
their dependencies from PyPI), systemd units, sample configs under
``/etc/switchman`` (conffiles), a ``switchman`` system user, and maintainer
scripts that enable but do not start the daemon. The virtual environment has
to be built at its final path: it is built inside a private mount namespace
with an overlay on ``/opt`` whose upper layer is the staging tree (the
host's ``/opt`` is untouched)."""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
PYTHON = "/usr/bin/python3"

PACKAGES = {
    "agent": {
        "wheels": ["proto", "agent"],
        "bins": ["switchman-agent"],
        "unit": True,
        "conf": "agent.toml",
        "description": "Switchman agent: host metrics, health probes, blue-green service slots, chaos faults",
    },
    "controller": {
        "wheels": ["proto", "controller"],
        "bins": ["switchman-controller"],
        "unit": True,
        "conf": "controller.toml",
        "description": "Switchman controller: fleet telemetry, alerting, SLOs, incidents, rollouts, drills",
    },
    "cli": {
        "wheels": ["proto", "controller", "cli"],
        "bins": ["switchman"],
        "unit": False,
        "conf": "",
        "description": "Switchman command-line interface",
    },
}

POSTINST = """#!/bin/sh
set -e
# DPKG_ROOT is set when installing into another root (dpkg --root): no users or units there
if [ "$1" = "configure" ] && [ -z "$DPKG_ROOT" ]; then
    if ! getent passwd switchman >/dev/null; then
        adduser --system --group --home /var/lib/switchman --no-create-home switchman >/dev/null
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null || true
        systemctl enable {unit} >/dev/null || true   # enabled, not started: configure it first
    fi
fi
exit 0
"""

PRERM = """#!/bin/sh
set -e
if [ "$1" = "remove" ] && [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then
    systemctl stop {unit} >/dev/null || true
    systemctl disable {unit} >/dev/null || true
fi
exit 0
"""


def run(argv: list[str], **kw: object) -> None:
    subprocess.run(argv, check=True, **kw)  # type: ignore[call-overload]


def wheels(dist: Path, names: list[str]) -> list[str]:
    out = []
    for n in names:
        found = sorted(glob.glob(str(dist / f"switchman_{n}-*.whl")))
        if not found:
            raise SystemExit(f"no wheel for switchman-{n} in {dist}: run `make dist` first")
        out.append(found[-1])
    return out


def build(name: str, out: Path, dist: Path) -> Path:
    spec = PACKAGES[name]
    pkg = f"switchman-{name}"
    stage = out / pkg
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "opt").mkdir(parents=True)
    work = out / f"{pkg}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    venv = f"/opt/switchman/{name}"
    # an overlay on /opt: what the build writes lands in the staging tree; the host's /opt stays as it is
    script = (
        f"mount -t overlay overlay -o lowerdir=/opt,upperdir={stage / 'opt'},workdir={work} /opt && "
        f"{PYTHON} -m venv {venv} && "
        f"{venv}/bin/pip install --quiet --disable-pip-version-check {' '.join(wheels(dist, spec['wheels']))}"  # type: ignore[arg-type]
    )
    run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    shutil.rmtree(work, ignore_errors=True)
    for pycache in (stage / "opt").rglob("__pycache__"):
        shutil.rmtree(pycache, ignore_errors=True)  # compiled again on first import, owned by root
    usr_bin = stage / "usr/bin"
    usr_bin.mkdir(parents=True)
    for b in spec["bins"]:  # type: ignore[union-attr]
        os.symlink(f"{venv}/bin/{b}", usr_bin / b)
    debian = stage / "DEBIAN"
    debian.mkdir()
    if spec["conf"]:
        etc = stage / "etc/switchman"
        etc.mkdir(parents=True)
        shutil.copy(ROOT / "packaging/etc" / str(spec["conf"]), etc / str(spec["conf"]))
        (debian / "conffiles").write_text(f"/etc/switchman/{spec['conf']}\n")
    if spec["unit"]:
        units = stage / "lib/systemd/system"
        units.mkdir(parents=True)
        shutil.copy(ROOT / f"systemd/{pkg}.service", units / f"{pkg}.service")
        for script_name, body in (("postinst", POSTINST), ("prerm", PRERM)):
            path = debian / script_name
            path.write_text(body.replace("{unit}", f"{pkg}.service"))
            path.chmod(0o755)
    size_kib = sum(f.stat().st_size for f in stage.rglob("*") if f.is_file() and not f.is_symlink()) // 1024
    (debian / "control").write_text(
        f"Package: {pkg}\nVersion: {VERSION}\nArchitecture: amd64\nMaintainer: Switchman <switchman@localhost>\n"
        f"Depends: python3 (>= 3.11), adduser\nInstalled-Size: {size_kib}\nSection: admin\nPriority: optional\n"
        f"Description: {spec['description']}\n Installs into its own virtual environment under {venv}.\n"
    )
    deb = out / f"{pkg}_{VERSION}_amd64.deb"
    run(["dpkg-deb", "--build", "--root-owner-group", str(stage), str(deb)], stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return deb


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME", help="agent, controller, cli (default: all)")
    p.add_argument("--out", type=Path, default=ROOT / "build/deb")
    p.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = p.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("building the packages needs root (a private mount namespace for /opt)")
    if not Path(PYTHON).exists():
        raise SystemExit(f"{PYTHON} is missing: install Debian's python3 (the packages depend on it)")
    unknown = [n for n in args.names if n not in PACKAGES]
    if unknown:
        raise SystemExit(f"unknown package {unknown[0]!r}: choose from {', '.join(PACKAGES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(PACKAGES):
        print(build(name, args.out, args.dist))  # noqa: T201 (a build script: it names what it built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
