"""Online backup (SQLite's backup API: a consistent copy while the
controller keeps writing) and restore into a data directory."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from switchman.controller.store.migrations import MIGRATIONS

CHUNK = 1024 * 1024
REQUIRED_TABLES = ("series", "samples", "hosts", "alerts", "rollouts", "incidents", "audit")


class BackupError(ValueError):
    """A file that is not a usable Switchman controller backup."""


def backup_to(db_path: Path, target: Path) -> None:
    """A consistent copy of the live database (pages copied in steps; writers are not blocked for long)."""
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst, pages=4096)
    finally:
        dst.close()
        src.close()


def stream_backup(db_path: Path) -> Iterator[bytes]:
    """Blocking: the backup as chunks (made in a temporary file, removed afterwards)."""
    fd, name = tempfile.mkstemp(prefix="switchman-backup-", suffix=".db", dir=db_path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        backup_to(db_path, tmp)
        with tmp.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        tmp.unlink(missing_ok=True)


def check_backup(path: Path) -> int:
    """:raises BackupError: unless ``path`` is an intact controller database; returns its schema version."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not an SQLite database ({exc})") from None
    if ok != "ok":
        raise BackupError(f"{path}: integrity check failed: {ok}")
    if version > len(MIGRATIONS):
        raise BackupError(f"{path}: made by a newer controller (schema {version}, this one knows {len(MIGRATIONS)})")
    missing = [t for t in REQUIRED_TABLES[: 3 if version < 7 else len(REQUIRED_TABLES)] if t not in tables]
    if missing or version == 0:
        raise BackupError(
            f"{path}: not a Switchman controller database (missing {', '.join(missing) or 'schema version'})"
        )
    return version


def restore(backup: Path, data_dir: Path, force: bool) -> None:
    """Copy a checked backup into ``data_dir`` (the controller must be stopped); older schemas migrate at start.

    :raises BackupError:
    """
    check_backup(backup)
    target = data_dir / "controller.db"
    if target.exists() and not force:
        raise BackupError(f"{target} exists: stop the controller and pass --force to replace it")
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".restoring")
    shutil.copyfile(backup, tmp)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, target)  # atomic: the old database or the new one, never half of each
