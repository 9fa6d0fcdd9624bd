"""A damaged database file at start: the controller checks it, exits with one
message naming the file and the restore command, and never serves; the
restore it names brings a backup back and the controller starts on it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, Daemon, controller_argv, db_rows, free_port, wait_until

pytestmark = pytest.mark.slow


def make_database(data: Path) -> Path:
    """A real controller database with a few thousand rows, the controller stopped."""
    port = free_port()
    d = Daemon(controller_argv(data, port), data.parent / "first.log").start()
    try:
        wait_until((data / "admin.token").exists, 20, what="controller start")
    finally:
        assert d.terminate() == 0
    db = data / "controller.db"
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES ('h',?,'k',0,'','m','{}')",
        [(i,) for i in range(5000)],
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


def corrupt_a_page(db: Path) -> None:
    """Overwrite the middle of one b-tree page of the events table (not the header)."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    conn.close()
    with db.open("r+b") as f:
        f.seek((root - 1) * page_size + 8)  # past the page header's first bytes: cell pointers and cells
        f.write(b"\xff" * 200)


def test_a_damaged_database_stops_the_controller_with_the_restore_command(tmp_path: Path) -> None:
    data = tmp_path / "c"
    db = make_database(data)
    backup = tmp_path / "backup.db"
    subprocess.run(["cp", str(db), str(backup)], check=True)
    corrupt_a_page(db)

    port = free_port()
    r = subprocess.run(controller_argv(data, port), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.startswith("switchman-controller:")]
    assert len(lines) == 1, r.stderr
    assert str(db) in lines[0] and "damaged" in lines[0]
    assert f"switchman-controller --data-dir {data} restore FILE --force" in lines[0]
    assert "serving" not in r.stdout + r.stderr

    # the command it names, then a start that serves
    subprocess.run(
        [str(BIN / "switchman-controller"), "--insecure", "--data-dir", str(data), "restore", str(backup), "--force"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    d = Daemon(controller_argv(data, port), tmp_path / "again.log").start()
    try:
        wait_until(lambda: "controller serving" in d.log(), 30, what="the restored controller serving")
        assert db_rows(db, "SELECT count(*) FROM events") == [(5000,)]
    finally:
        d.terminate()


def test_a_file_that_is_not_a_database_is_refused_the_same_way(tmp_path: Path) -> None:
    data = tmp_path / "c"
    data.mkdir()
    (data / "controller.db").write_bytes(b"this is not SQLite" * 1000)
    r = subprocess.run(controller_argv(data, free_port()), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert f"{data / 'controller.db'} is damaged" in r.stderr and "restore FILE --force" in r.stderr
