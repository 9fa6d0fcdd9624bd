"""The two readers of the agent's collectors: the push cycle and the scrape
(``/metrics``, GetSnapshot). Each has its own host collector, since the CPU
utilisation ratio is taken between two calls of one reader."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

from switchman.agent.collect.agent_self import CycleStats
from switchman.agent.collect.host import HostCollector
from switchman.agent.collect.model import Collector, Family


class Readings:
    """Host families first, then those of ``collectors`` (read by both)."""

    def __init__(
        self, collectors: Sequence[Collector], cycles: CycleStats, host: Callable[[], Collector] = HostCollector
    ) -> None:
        self._push = [host(), *collectors]
        self._scrape = [host(), *collectors]
        self._cycles = cycles
        self._scrape_lock = threading.Lock()

    def for_push(self) -> list[Family]:
        """One collection cycle (counted, and its CPU time, in ``cycles``). Blocking."""
        return self._cycles.timed(lambda: _read(self._push))

    def for_scrape(self) -> list[Family]:
        """A reading for a scrape; concurrent scrapes take turns. Blocking."""
        with self._scrape_lock:
            return _read(self._scrape)

    async def read_now(self) -> list[Family]:
        """:meth:`for_scrape` in a worker thread."""
        return await asyncio.to_thread(self.for_scrape)


def _read(collectors: Sequence[Collector]) -> list[Family]:
    return [family for c in collectors for family in c.collect()]
