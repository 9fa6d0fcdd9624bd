"""Container images built at test time (no registry is reachable): a root
filesystem with Debian's static busybox, imported with ``podman import``.

The web image serves ``/www`` with ``busybox httpd`` on the address and port
it is given (``/bin/serve ADDRESS PORT``): ``/health`` answers ``ok`` and
``/version`` the image's tag, so a response says which version served it.
On SIGTERM it stops accepting, lets the requests in flight finish, and
exits 0 (what a well-behaved service does when its slot drains). Version
``3-slow`` waits ``SLOW_START`` seconds before it listens.

``ENGINE_ARGS`` and ``RUN_ARGS`` are what podman needs on this kind of host
(docs/services.md): runc (crun fails on setrlimit), cgroupfs (no systemd),
the host's network and explicit ulimits; dockerd takes ``DOCKERD_FLAGS``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BUSYBOX = Path("/bin/busybox")  # busybox-static: `make system-deps`
ENGINE_ARGS = ("--runtime", "runc", "--cgroup-manager=cgroupfs")
RUN_ARGS = ("--network", "host", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096")
# docker takes the same settings in its daemon (no bridge network here, no iptables, no systemd)
DOCKERD_FLAGS = (
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    "--exec-opt",
    "native.cgroupdriver=cgroupfs",
    "--default-ulimit",
    "nofile=1024:1024",
    "--default-ulimit",
    "nproc=4096:4096",
)
REPOSITORY = "localhost/switchman-test-web"
VERSIONS = ("1", "2", "3-slow")  # 3-slow starts serving after SLOW_START seconds
SLOW_START = 120

SERVE = """#!/bin/sh
# serve ADDRESS PORT: busybox httpd in the foreground; SIGTERM drains
if [ -f /etc/start-delay ]; then  # a version that is slow to start (its probe fails meanwhile)
  trap 'exit 0' TERM INT
  /bin/busybox sleep "$(cat /etc/start-delay)" &
  wait $!
fi
/bin/busybox httpd -f -p "$1:$2" -h /www &
httpd=$!
echo "serve: version $(cat /www/version) listening on $1:$2"
trap 'kill -TERM $httpd' TERM INT
wait $httpd
wait $httpd
# the forked children answering requests in flight are ours now (pid 1): let them finish
n=0
while [ $n -lt 200 ]; do
  busy=""
  for d in /proc/[0-9]*; do
    [ "$d" = /proc/1 ] && continue
    read -r comm < "$d/comm" 2>/dev/null && [ "$comm" = httpd ] && busy=1 && break
  done
  [ -z "$busy" ] && echo "serve: drained" && exit 0
  /bin/busybox usleep 10000
  n=$((n + 1))
done
"""


@dataclass(frozen=True)
class WebImage:
    engine: str
    repository: str
    versions: tuple[str, ...]

    @property
    def image(self) -> str:
        """The spec's ``image``: the tag is the version."""
        return f"{self.repository}:{{version}}"

    def ref(self, version: str) -> str:
        return f"{self.repository}:{version}"


def rootfs_tar(version: str) -> bytes:
    """A tar of the image's root filesystem: /bin/busybox, /bin/sh, /bin/serve, /www."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "www", "tmp", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        add("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)
        add("bin/serve", SERVE.encode(), 0o755)
        add("www/health", b"ok\n")
        add("www/version", f"{version}\n".encode())
        add("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
        if version.endswith("-slow"):
            add("etc/start-delay", f"{SLOW_START}\n".encode())
    return buf.getvalue()


def engine_args(engine: str) -> tuple[str, ...]:
    """The global flags each engine needs here (docker's settings live in its daemon: DOCKERD_FLAGS)."""
    return ENGINE_ARGS if engine == "podman" else ()


def docker_unavailable() -> str:
    """Why docker cannot run containers here ('' when it can), from what this machine has."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=20)
    if done.returncode == 0:
        return ""
    said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["nothing"]
    socket = Path("/var/run/docker.sock")
    dockerd = shutil.which("dockerd")
    how = f"start it: dockerd {' '.join(DOCKERD_FLAGS)}"
    return "; ".join(
        [
            f"`docker info` says: {said[0]}",
            f"{socket} {'exists' if socket.exists() else 'does not exist'}",
            f"dockerd is at {dockerd} but does not answer ({how})"
            if dockerd
            else "dockerd is not installed (Debian package docker.io; make system-deps does not install it)",
        ]
    )


def build_web_image(engine: str = "podman", versions: tuple[str, ...] = VERSIONS) -> WebImage:
    """Import one tag per version (each serves its own /version)."""
    if not BUSYBOX.exists():
        raise AssertionError(f"{BUSYBOX} is missing: install busybox-static (make system-deps)")
    if shutil.which(engine) is None:
        raise AssertionError(f"`{engine}` is not installed (make system-deps)")
    for version in versions:
        cmd = [engine, *engine_args(engine), "import", "--change", 'CMD ["/bin/serve", "127.0.0.1", "8080"]', "-"]
        done = subprocess.run(
            [*cmd, f"{REPOSITORY}:{version}"], input=rootfs_tar(version), capture_output=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"{engine} import failed: {done.stderr.decode(errors='replace')}")
    return WebImage(engine, REPOSITORY, versions)


def containers(engine: str, label: str) -> list[dict[str, Any]]:
    """``podman ps --all --format json`` of the containers with ``label`` (k=v), as podman reports them."""
    out = subprocess.run(
        [engine, *engine_args(engine), "ps", "--all", "--format", "json", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    found: list[dict[str, Any]] = json.loads(out or "[]")
    return found


def engine_slots(engine: str, label: str) -> dict[str, tuple[str, int, str]]:
    """slot -> (version, pid, state) of the containers with ``label``, as the
    engine lists them: ``podman ps``; docker's ``ps`` has no pids, so ``docker
    ps --quiet`` and ``docker inspect``."""
    if engine == "podman":
        return {
            c["Labels"]["switchman.slot"]: (c["Labels"]["switchman.version"], int(c["Pid"]), str(c["State"]))
            for c in containers(engine, label)
        }
    ids = subprocess.run(
        [engine, "ps", "--all", "--quiet", "--filter", f"label={label}"], capture_output=True, text=True, timeout=60
    ).stdout.split()
    if not ids:
        return {}
    out = subprocess.run([engine, "inspect", *ids], capture_output=True, text=True, timeout=60).stdout
    return {
        d["Config"]["Labels"]["switchman.slot"]: (
            d["Config"]["Labels"]["switchman.version"],
            int(d["State"]["Pid"]),
            str(d["State"]["Status"]),
        )
        for d in json.loads(out or "[]")
    }


def remove_containers(engine: str, label: str) -> None:
    """``rm --force`` every container carrying ``label`` (k=v)."""
    flags = engine_args(engine)
    ids = subprocess.run(
        [engine, *flags, "ps", "--all", "--quiet", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    if ids:
        subprocess.run([engine, *flags, "rm", "--force", *ids], capture_output=True, timeout=120)


class Dockerd:
    """Debian's dockerd with this host's settings (DOCKERD_FLAGS), started for
    the session when none answers and stopped at its end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None

    def ensure(self) -> str:
        """'' once a daemon answers; otherwise why it cannot."""
        if not (why := docker_unavailable()) or self.proc is not None:
            return why
        dockerd = shutil.which("dockerd")
        if dockerd is None or shutil.which("docker") is None:
            return why
        self.work.mkdir(parents=True, exist_ok=True)
        log = (self.work / "dockerd.log").open("ab")
        self.proc = subprocess.Popen(
            [dockerd, *DOCKERD_FLAGS], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            if not docker_unavailable():
                return ""
            time.sleep(0.2)
        tail = (self.work / "dockerd.log").read_text(errors="replace")[-1500:]
        return f"dockerd {' '.join(DOCKERD_FLAGS)} did not answer within 60 s: {tail}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class WebImages:
    """Each engine's web image, built on first use in a session (docker's
    daemon started first when it is installed and not running)."""

    def __init__(self, dockerd: Dockerd) -> None:
        self._built: dict[str, WebImage] = {}
        self._dockerd = dockerd

    def get(self, engine: str) -> WebImage:
        """:raises AssertionError: the engine cannot run containers here (the reason is said)."""
        if engine == "docker" and (why := self._dockerd.ensure()):
            raise AssertionError(
                f"docker cannot run containers on this machine: {why} (make system-deps installs docker.io)"
            )
        if engine not in self._built:
            self._built[engine] = build_web_image(engine)
        return self._built[engine]


@pytest.fixture(scope="session", name="web_images")
def web_images_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebImages]:
    """Every engine's web image, built once per test session."""
    dockerd = Dockerd(tmp_path_factory.mktemp("dockerd"))
    try:
        yield WebImages(dockerd)
    finally:
        dockerd.stop()


@pytest.fixture(scope="session", name="web_image")
def web_image_fixture(web_images: WebImages) -> Iterator[WebImage]:
    """The podman web image, built once per test session (import this and
    ``web_images_fixture`` into a test module to offer ``web_image`` there)."""
    yield web_images.get("podman")
