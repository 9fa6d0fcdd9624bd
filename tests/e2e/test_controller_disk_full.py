"""The disk under the controller's database fills up: pushes are refused
with RESOURCE_EXHAUSTED (agents keep their batches), reads still answer, the
controller says so (log line, ``switchman_store_full`` = 1), and once space
returns it takes writes again by itself and the agents' samples from the
full period arrive. Real tmpfs, real daemons."""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import BIN, Daemon, agent_argv, controller_argv, db_rows, free_port, wait_until

pytestmark = pytest.mark.slow

INTERVAL_S = 0.5


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.fail("mounting a tmpfs needs root and mount(8): run the suite as root (make test does)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt)], check=True, timeout=30)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False, timeout=30)


def fill(path: Path) -> int:
    """Write ``path`` until the file system has no byte left; returns its size."""
    chunk = b"\0" * (1 << 20)
    with path.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        while True:  # the last partial blocks too
            try:
                f.write(b"\0" * 4096)
            except OSError:
                break
    return path.stat().st_size


def store_full(metrics_port: int) -> float | None:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    return next(
        (float(line.split()[1]) for line in text.splitlines() if line.startswith("switchman_store_full ")), None
    )


def stamps(db: Path, host: str) -> list[int]:
    rows = db_rows(
        db,
        "SELECT s.ts FROM samples s JOIN series r ON r.id = s.series_id "
        "WHERE r.name = 'node_load1' AND r.host_id = ? ORDER BY s.ts",
        (host,),
    )
    return [int(r[0]) for r in rows]  # type: ignore[call-overload]


def test_a_full_disk_refuses_pushes_keeps_reads_and_loses_nothing_once_space_returns(
    tmp_path: Path, small_disk: Path, daemons: list[Daemon]
) -> None:
    port, mport = free_port(), free_port()
    data = small_disk / "c"
    db = data / "controller.db"
    controller = Daemon(controller_argv(data, port, mport), tmp_path / "c.log")
    daemons.append(controller.start())
    hosts = ("full-1", "full-2")
    for i, host in enumerate(hosts):
        argv = agent_argv(
            tmp_path / host,
            port,
            f"127.0.0.{81 + i}",
            host,
            "--interval",
            f"{int(INTERVAL_S * 1000)}ms",
            "--backoff-cap",
            "1s",
        )
        daemons.append(Daemon(argv, tmp_path / f"{host}.log").start())
    wait_until(lambda: all(len(stamps(db, h)) >= 3 for h in hosts), 30, what="both agents' samples stored")
    assert store_full(mport) == 0
    before = {h: stamps(db, h) for h in hosts}

    filler = small_disk / "filler"
    fill(filler)
    full_from = time.time() * 1000
    wait_until(lambda: store_full(mport) == 1, 60, what="switchman_store_full = 1")
    wait_until(lambda: "the disk is full" in controller.log(), 10, what="the controller's log line")
    wait_until(
        lambda: all("the disk is full" in Path(tmp_path / f"{h}.log").read_text() for h in hosts),
        30,
        what="the agents told RESOURCE_EXHAUSTED",
    )

    # reads answer from what is stored
    cli = [
        str(BIN / "switchman"),
        "--insecure",
        "--controller",
        f"127.0.0.1:{port}",
        "--token-file",
        str(data / "admin.token"),
    ]
    r = subprocess.run([*cli, "-o", "json", "query", "node_load1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert {s["metric"]["host"] for s in json.loads(r.stdout)["result"]} == set(hosts)
    hosts_out = subprocess.run([*cli, "-o", "json", "hosts"], capture_output=True, text=True, timeout=60)
    assert hosts_out.returncode == 0 and len(json.loads(hosts_out.stdout)) == 2
    assert controller.alive()

    time.sleep(3)  # the full period itself (agents keep collecting into their spools), not a wait for a condition
    filler.unlink()
    space_back = time.time() * 1000
    wait_until(lambda: store_full(mport) == 0, 60, what="switchman_store_full back to 0")
    assert "writes succeed again" in controller.log()

    def caught_up() -> bool:
        return all(any(t > space_back for t in stamps(db, h)) for h in hosts)

    wait_until(caught_up, 60, what="the agents' spools replayed")
    for h in hosts:
        after = stamps(db, h)
        assert set(before[h]) <= set(after), "a sample stored before the disk filled is gone"
        during = [t for t in after if full_from <= t <= space_back]
        assert len(during) >= 3 / INTERVAL_S, f"{h}: {len(during)} samples from the full period arrived"
        gaps = [b - a for a, b in itertools.pairwise(after)]
        assert max(gaps) < 4 * INTERVAL_S * 1000, f"{h}: a hole of {max(gaps)} ms in what was stored"
