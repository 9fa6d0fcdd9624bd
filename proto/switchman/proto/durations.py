"""Prometheus-style durations: ``500ms``, ``10s``, ``5m``, ``1h30m``, ``7d``."""

from __future__ import annotations

import re

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_ORDER = ["y", "w", "d", "h", "m", "s", "ms"]


class DurationError(ValueError):
    """A duration string that does not parse."""


def parse_duration_ms(text: str) -> int:
    """Parse ``text`` into milliseconds.

    :raises DurationError: with a message naming the text and the expected form.
    """
    s = text.strip()
    if not s:
        raise DurationError("empty duration: expected a number with a unit, e.g. 500ms, 10s, 5m, 1h30m")
    pos = 0
    total = 0
    last_rank = -1
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        rank = _ORDER.index(m.group(2))
        if rank <= last_rank:
            raise DurationError(f"bad duration {text!r}: units must go from largest to smallest, each once")
        last_rank = rank
        total += int(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise DurationError(
            f"bad duration {text!r}: expected a number with a unit (ms, s, m, h, d, w, y), e.g. 10s or 1h30m"
        )
    return total


def parse_duration_s(text: str) -> float:
    """Parse ``text`` into seconds (float)."""
    return parse_duration_ms(text) / 1000.0


def format_duration_ms(ms: int) -> str:
    """Format milliseconds as Prometheus' ``model.Duration`` prints them
    (``1h30m``, ``500ms``, ``0s``; years and weeks only when exact: ``90d``, ``2w``)."""
    if ms == 0:
        return "0s"
    out = []
    rest = ms
    for unit in _ORDER:
        size = _UNITS_MS[unit]
        if unit in ("y", "w") and rest % size:
            continue
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)
