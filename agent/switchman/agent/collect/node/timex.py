"""The kernel clock discipline, ``adjtimex(2)`` read-only: node_exporter's timex collector.

ctypes is imported when a :class:`Timex` is made (the agent makes one), not
when this module is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchman.agent.collect.model import Family

if TYPE_CHECKING:
    from collections.abc import Callable

TIME_ERROR = 5
STA_NANO = 0x2000
PPM16 = 1_000_000.0 * 65536.0  # ppm with 16 fractional bits
MICRO = 1_000_000.0

# (name, kind, help)
_SERIES = {
    "sync_status": ("gauge", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
    "offset_seconds": ("gauge", "Time offset in between local system and reference clock."),
    "frequency_adjustment_ratio": ("gauge", "Local clock frequency adjustment."),
    "maxerror_seconds": ("gauge", "Maximum error in seconds."),
    "estimated_error_seconds": ("gauge", "Estimated error in seconds."),
    "status": ("gauge", "Value of the status array bits."),
    "loop_time_constant": ("gauge", "Phase-locked loop time constant."),
    "tick_seconds": ("gauge", "Seconds between clock ticks."),
    "pps_frequency_hertz": ("gauge", "Pulse per second frequency."),
    "pps_jitter_seconds": ("gauge", "Pulse per second jitter."),
    "pps_shift_seconds": ("gauge", "Pulse per second interval duration."),
    "pps_stability_hertz": ("gauge", "Pulse per second stability, average of recent frequency changes."),
    "pps_jitter_total": ("counter", "Pulse per second count of jitter limit exceeded events."),
    "pps_calibration_total": ("counter", "Pulse per second count of calibration intervals."),
    "pps_error_total": ("counter", "Pulse per second count of calibration errors."),
    "pps_stability_exceeded_total": ("counter", "Pulse per second count of stability limit exceeded events."),
    "tai_offset_seconds": ("gauge", "International Atomic Time (TAI) offset."),
}


def values(state: int, tx: Any) -> dict[str, float]:
    """node_exporter's values from adjtimex's return and its ``struct timex``."""
    divisor = 1e9 if tx.status & STA_NANO else MICRO
    return {
        "sync_status": 0.0 if state == TIME_ERROR else 1.0,
        "offset_seconds": tx.offset / divisor,
        "frequency_adjustment_ratio": 1 + tx.freq / PPM16,
        "maxerror_seconds": tx.maxerror / MICRO,
        "estimated_error_seconds": tx.esterror / MICRO,
        "status": float(tx.status),
        "loop_time_constant": float(tx.constant),
        "tick_seconds": tx.tick / MICRO,
        "pps_frequency_hertz": tx.ppsfreq / PPM16,
        "pps_jitter_seconds": tx.jitter / divisor,
        "pps_shift_seconds": float(tx.shift),
        "pps_stability_hertz": tx.stabil / PPM16,
        "pps_jitter_total": float(tx.jitcnt),
        "pps_calibration_total": float(tx.calcnt),
        "pps_error_total": float(tx.errcnt),
        "pps_stability_exceeded_total": float(tx.stbcnt),
        "tai_offset_seconds": float(tx.tai),
    }


def families(read: dict[str, float] | None) -> list[Family]:
    out = []
    for name, (kind, text) in _SERIES.items():
        fam = Family(f"node_timex_{name}", kind, text)
        if read is not None:
            fam.add(read[name])
        out.append(fam)
    return out


class Timex:
    """Calls libc's ``adjtimex`` with ``modes`` 0 (reads, changes nothing)."""

    def __init__(self) -> None:
        self._call: Callable[[], tuple[int, Any]] | None = _binding()

    def collect(self) -> list[Family]:
        if self._call is None:
            return families(None)
        state, tx = self._call()
        return families(values(state, tx) if state >= 0 else None)


def _binding() -> Callable[[], tuple[int, Any]] | None:
    import ctypes  # here, not at module import: only a Timex needs it

    c_long, c_int = ctypes.c_long, ctypes.c_int

    class TimexStruct(ctypes.Structure):
        _fields_ = [  # struct timex of <sys/timex.h> (LP64)
            ("modes", ctypes.c_uint), ("offset", c_long), ("freq", c_long), ("maxerror", c_long),
            ("esterror", c_long), ("status", c_int), ("constant", c_long), ("precision", c_long),
            ("tolerance", c_long), ("tv_sec", c_long), ("tv_usec", c_long), ("tick", c_long),
            ("ppsfreq", c_long), ("jitter", c_long), ("shift", c_int), ("stabil", c_long),
            ("jitcnt", c_long), ("calcnt", c_long), ("errcnt", c_long), ("stbcnt", c_long),
            ("tai", c_int), ("padding", c_int * 11),
        ]  # fmt: skip

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        adjtimex = libc.adjtimex
    except (OSError, AttributeError):
        return None
    adjtimex.argtypes = [ctypes.POINTER(TimexStruct)]
    adjtimex.restype = c_int

    def call() -> tuple[int, Any]:
        tx = TimexStruct()
        return int(adjtimex(ctypes.byref(tx))), tx

    return call
