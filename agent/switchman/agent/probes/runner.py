"""Runs probes on their intervals and records their results as samples
(blackbox_exporter's names) and state changes as events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from switchman.agent.errors import UnknownProbe
from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.state import ProbeState, Status
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.probes import ProbeOutcome, ProbeSpec

log = logging.getLogger(__name__)


def record(buffer: TelemetryBuffer, spec: ProbeSpec, slot: str, outcome: ProbeOutcome) -> None:
    labels = (("probe", spec.name), ("service", spec.service), ("slot", slot))
    buffer.add("probe_success", labels, 1.0 if outcome.success else 0.0)
    buffer.add("probe_duration_seconds", labels, outcome.duration_s)
    if outcome.http_status:
        buffer.add("probe_http_status_code", labels, outcome.http_status)


class ProbeRunner:
    """One task per probe key; ``states`` holds each probe's current status."""

    def __init__(self, buffer: TelemetryBuffer, on_change: Callable[[str, Status], None] | None = None) -> None:
        self._buffer = buffer
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.states: dict[str, ProbeState] = {}
        self.specs: dict[str, tuple[ProbeSpec, str]] = {}
        self._on_change = on_change

    def keys(self) -> list[str]:
        return list(self._tasks)

    def find(self, name: str) -> ProbeSpec:
        """The running probe called ``name``.

        :raises UnknownProbe:
        """
        spec = next((s for s, _ in self.specs.values() if s.name == name), None)
        if spec is None:
            raise UnknownProbe(f"no probe named {name!r} on this agent")
        return spec

    def add(self, key: str, spec: ProbeSpec, slot: str = "") -> None:
        self.remove(key)
        self.specs[key] = (spec, slot)
        self.states[key] = ProbeState(spec.success_before_passing, spec.failures_before_critical)
        self._tasks[key] = asyncio.create_task(self._loop(key, spec, slot), name=f"probe:{key}")

    def replace(self, prefix: str, specs: Iterable[ProbeSpec]) -> None:
        """Run exactly ``specs`` among the keys that start with ``prefix``
        (each as ``prefix + name``): the configured probes after a reload."""
        for key in [k for k in self._tasks if k.startswith(prefix)]:
            self.remove(key)
        for spec in specs:
            self.add(f"{prefix}{spec.name}", spec)

    def remove(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
        self.states.pop(key, None)
        self.specs.pop(key, None)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _loop(self, key: str, spec: ProbeSpec, slot: str) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            outcome = await run_probe(spec)
            record(self._buffer, spec, slot, outcome)
            state = self.states.get(key)
            if state is not None:
                changed = state.observe(outcome.success, outcome.warning)
                if changed is not None:
                    log.info("probe %s is %s (%s)", key, changed.value, outcome.output)
                    self._buffer.event(
                        "probe.state",
                        f"probe {spec.name} is {changed.value}: {outcome.output}",
                        service=spec.service,
                        severity="info"
                        if changed is Status.PASSING
                        else "warning"
                        if changed is Status.WARNING
                        else "critical",
                        probe=spec.name,
                        slot=slot,
                        status=changed.value,
                    )
                    if self._on_change is not None:
                        self._on_change(key, changed)
            next_at += spec.interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
