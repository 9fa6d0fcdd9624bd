"""Request metrics a router keeps for a ``protocol = "http"`` service: a
count per (slot, version, status code) and a latency histogram per (slot,
version) with Prometheus' default buckets, read by the slot collector as
``switchman_service_requests_total`` and
``switchman_service_request_duration_seconds``."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)  # and +Inf


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))  # per bucket, not cumulative
    sum: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, count) pairs as exposed, +Inf last."""
        out, total = [], 0
        for le, n in zip([*(repr(b) for b in BUCKETS), "+Inf"], self.counts, strict=True):
            total += n
            out.append((le, total))
        return out


@dataclass(frozen=True)
class SlotRequests:
    """What one slot served under one version."""

    slot: str
    version: str
    codes: dict[str, int]  # status code ("200"; HAProxy: its class, "2xx") -> responses
    duration: Histogram | None  # None when the router measures no distribution (HAProxy)
    mean_response_s: float | None = None  # HAProxy's rtime over its last 1024 requests


class RequestStats:
    """Counts per slot under the version the slot runs (see :meth:`label`)."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self._codes: dict[tuple[str, str], dict[int, int]] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}

    def label(self, slot: str, version: str) -> None:
        """``slot`` runs ``version`` from now on; what it served before is forgotten
        (the old series ends; a counter that starts again is a reset to Prometheus)."""
        old = self.versions.get(slot)
        if old is not None and old != version:
            self._codes.pop((slot, old), None)
            self._durations.pop((slot, old), None)
        self.versions[slot] = version

    def observe(self, slot: str, code: int, seconds: float) -> None:
        key = (slot, self.versions.get(slot, ""))
        codes = self._codes.get(key)
        if codes is None:
            codes = self._codes[key] = {}
            self._durations[key] = Histogram()
        codes[code] = codes.get(code, 0) + 1
        self._durations[key].observe(seconds)

    def snapshot(self) -> list[SlotRequests]:
        return [
            SlotRequests(
                slot, version, {str(c): n for c, n in list(codes.items())}, _copy(self._durations[(slot, version)])
            )
            for (slot, version), codes in list(self._codes.items())
        ]


def _copy(h: Histogram) -> Histogram:
    return Histogram(list(h.counts), h.sum, h.count)
