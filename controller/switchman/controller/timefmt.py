"""The wall clock, and times in reports (journals, postmortems)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def wall_ms() -> int:
    """Now, in Unix milliseconds: the controller's default clock."""
    return int(time.time() * 1000)


def utc(ms: int) -> str:
    """``2026-11-23 06:33:37 UTC``, or ``-`` for 0 (never)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ms else "-"
