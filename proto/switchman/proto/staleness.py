"""Prometheus' staleness marker: a NaN with its own bit pattern
(``value.StaleNaN``), written when a series goes away. Agents send it and the
controller stores and honours it."""

from __future__ import annotations

import math
import struct

STALE_BITS = 0x7FF0000000000002
_PACKED = struct.pack("<Q", STALE_BITS)
STALE_NAN: float = struct.unpack("<d", _PACKED)[0]


def is_stale(v: float) -> bool:
    """True for the staleness marker only (a plain NaN is a value)."""
    return math.isnan(v) and struct.pack("<d", v) == _PACKED
