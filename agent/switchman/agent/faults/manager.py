"""Applies, times and reverts faults. The order for every fault: validate,
write it to the ledger, arm its revert timer, apply it, record what revert
needs. Revert is idempotent; at start every fault left in the ledger is
reverted (SPEC 3.5)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psutil
from switchman.agent.faults import workers
from switchman.agent.faults.errors import FaultFailed, InvalidFault, UnknownFault
from switchman.agent.faults.ledger import FaultRecord, Ledger
from switchman.agent.faults.params import ROUTER_KINDS, FaultParams, parse
from switchman.agent.services.errors import UnknownService
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.routers.builtin import BuiltinRouter, Toxic
from switchman.agent.telemetry_buffer import TelemetryBuffer

log = logging.getLogger(__name__)

FILL_PREFIX = ".switchman-fill-"


class FaultManager:
    def __init__(
        self,
        ledger: Ledger,
        services: ServiceManager,
        partition: Callable[[bool], None],
        buffer: TelemetryBuffer,
        data_dir: Path,
        max_duration_ms: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ledger = ledger
        self._services = services
        self._partition = partition
        self._buffer = buffer
        self._data_dir = data_dir
        self._max_ms = max_duration_ms
        self._clock = clock
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # start-up ---------------------------------------------------------------
    async def recover(self) -> int:
        """Revert every fault a previous run left applied (crash, kill -9)."""
        left = await asyncio.to_thread(self._ledger.all, False)
        for rec in left:
            await self._revert(rec, "left applied by a previous run of the agent")
        await asyncio.to_thread(self._ledger.prune)
        return len(left)

    # commands ---------------------------------------------------------------
    async def inject(self, kind: str, duration_ms: int, service: str, params: dict[str, str]) -> FaultRecord:
        """:raises InvalidFault: nothing recorded or applied. :raises FaultFailed:"""
        p = parse(kind, duration_ms, service, params, self._max_ms)
        info = await self._check(p)
        now = self._now_ms()
        rec = FaultRecord(
            uuid.uuid4().hex[:12],
            kind,
            duration_ms,
            service,
            dict(params),
            "pending",
            now,
            now + duration_ms,
            info=info,
        )
        async with self._lock:
            await asyncio.to_thread(self._ledger.put, rec)  # on disk before anything happens
            self._timers[rec.id] = asyncio.create_task(self._expire(rec.id, duration_ms / 1000), name=f"fault:{rec.id}")
            try:
                rec.info.update(await self._apply(rec, p))
            except Exception as exc:
                self._timers.pop(rec.id).cancel()
                await self._undo(rec)
                rec.state, rec.error, rec.reverted_ms = "failed", str(exc)[:500], self._now_ms()
                await asyncio.to_thread(self._ledger.put, rec)
                self._event(rec, "fault.failed", f"{kind} could not be applied: {exc}", "warning")
                raise FaultFailed(f"{kind}: {exc}") from None
            rec.state = "active"
            await asyncio.to_thread(self._ledger.put, rec)
        self._event(rec, "fault.applied", f"{kind} for {duration_ms // 1000}s{f' on {service}' if service else ''}")
        log.warning("fault %s applied: %s %s for %d ms", rec.id, kind, params, duration_ms)
        return rec

    async def clear(self, fault_id: str) -> FaultRecord:
        """:raises UnknownFault:"""
        rec = await asyncio.to_thread(self._ledger.get, fault_id)
        if rec is None:
            raise UnknownFault(f"fault {fault_id!r} does not exist on this agent")
        if rec.state in ("pending", "active"):
            rec = await self._revert(rec, "cleared")
        return rec

    async def halt(self) -> list[FaultRecord]:
        """Revert every applied fault now. Idempotent."""
        live = await asyncio.to_thread(self._ledger.all, False)
        return [await self._revert(rec, "halted") for rec in live]

    async def list(self, include_done: bool) -> list[FaultRecord]:
        return await asyncio.to_thread(self._ledger.all, include_done)

    async def close(self) -> None:
        """Agent shutdown: faults stay applied with their workers' own deadlines; the next start reverts them."""
        for t in self._timers.values():
            t.cancel()

    # internals --------------------------------------------------------------
    async def _expire(self, fault_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        rec = await asyncio.to_thread(self._ledger.get, fault_id)
        if rec is not None and rec.state in ("pending", "active"):
            await self._revert(rec, "expired")

    async def _revert(self, rec: FaultRecord, why: str) -> FaultRecord:
        async with self._lock:
            fresh = await asyncio.to_thread(self._ledger.get, rec.id) or rec
            if fresh.state not in ("pending", "active"):
                return fresh
            timer = self._timers.pop(rec.id, None)
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
            error = await self._undo(fresh)
            done = replace(fresh, state="reverted", reverted_ms=self._now_ms(), error=error)
            await asyncio.to_thread(self._ledger.put, done)
        self._event(done, "fault.reverted", f"{done.kind} reverted ({why})" + (f": {error}" if error else ""))
        log.info("fault %s reverted (%s)", done.id, why)
        return done

    async def _check(self, p: FaultParams) -> dict[str, object]:
        """Refuse what cannot be applied here; returns what revert will need."""
        info: dict[str, object] = {}
        if p.service:
            try:
                rec = self._services.record(p.service)
                self._services.spec(p.service)
            except UnknownService as exc:
                raise InvalidFault(str(exc)) from None
            if p.kind in ROUTER_KINDS and not isinstance(self._services.routers.get(p.service), BuiltinRouter):
                raise InvalidFault(
                    f"{p.kind}: service {p.service} does not use the builtin router (needed for network faults)"
                )
            if p.kind in ("kill", "pause"):
                slot = p.slot or rec.active_slot
                if not slot:
                    raise InvalidFault(f"{p.kind}: service {p.service} has no active slot")
                info["slot"] = slot
        if p.kind == "disk_fill":
            info.update(self._check_disk(p))
        if p.kind == "memory":
            available = psutil.virtual_memory().available // 2**20
            if p.size_mib > available * 0.9:
                raise InvalidFault(f"size: {p.size_mib} MiB is more than 90% of the {available} MiB available")
        return info

    def _check_disk(self, p: FaultParams) -> dict[str, object]:
        path = Path(p.path or self._data_dir)
        if not path.is_dir():
            raise InvalidFault(f"path: {path} is not a directory")
        usage = shutil.disk_usage(path)
        left = usage.free - p.size_mib * 2**20
        floor = usage.total * p.min_free_percent / 100
        if left < floor:
            raise InvalidFault(
                f"size: {p.size_mib} MiB would leave {max(left, 0) // 2**20} MiB free on {path}, below min_free "
                f"{p.min_free_percent:g}% ({int(floor) // 2**20} MiB)"
            )
        return {"file": str(path / f"{FILL_PREFIX}{uuid.uuid4().hex[:8]}")}

    async def _apply(self, rec: FaultRecord, p: FaultParams) -> dict[str, object]:
        deadline = rec.expires_ms / 1000
        if p.kind == "cpu":
            pids = [await workers.spawn(workers.CPU, rec.id, deadline, str(p.load)) for _ in range(p.workers)]
            return {"pids": pids}
        if p.kind == "memory":
            return {"pids": [await workers.spawn(workers.MEMORY, rec.id, deadline, str(p.size_mib * 2**20))]}
        if p.kind in ROUTER_KINDS:
            router = self._services.routers[p.service]
            assert isinstance(router, BuiltinRouter)
            router.add_toxic(
                rec.id,
                Toxic(p.kind, p.latency_ms / 1000, p.jitter_ms / 1000, p.stream, p.probability, p.rate_kib * 1024.0),
            )
            return {}
        if p.kind in ("kill", "pause"):
            slot = str(rec.info["slot"])
            sig = signal.SIGSTOP if p.kind == "pause" else p.signal
            if not await self._services.driver_of(p.service).signal(p.service, slot, sig):
                raise FaultFailed(f"the {slot} slot of {p.service} is not running")
            return {}
        if p.kind == "disk_fill":
            await asyncio.to_thread(_fill, Path(str(rec.info["file"])), p.size_mib * 2**20)
            return {}
        if p.kind == "partition":
            self._partition(True)
            return {}
        raise InvalidFault(f"kind: {p.kind!r} is not supported")

    async def _undo(self, rec: FaultRecord) -> str:
        """Revert whatever of ``rec`` is applied; returns an error text or ''."""
        try:
            if rec.kind in ("cpu", "memory"):
                await asyncio.to_thread(workers.kill, rec.id)
            elif rec.kind in ROUTER_KINDS:
                router = self._services.routers.get(rec.service)
                if isinstance(router, BuiltinRouter):
                    router.remove_toxic(rec.id)
            elif rec.kind == "pause":
                with contextlib.suppress(UnknownService):
                    await self._services.driver_of(rec.service).signal(
                        rec.service, str(rec.info.get("slot", "")), signal.SIGCONT
                    )
            elif rec.kind == "disk_fill" and rec.info.get("file"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(str(rec.info["file"]))
            elif rec.kind == "partition":
                others = [
                    r
                    for r in await asyncio.to_thread(self._ledger.all, False)
                    if r.kind == "partition" and r.id != rec.id
                ]
                if not others:
                    self._partition(False)
        except Exception as exc:  # revert must go on for the other faults
            log.exception("reverting fault %s", rec.id)
            return str(exc)[:500]
        return ""

    def _event(self, rec: FaultRecord, kind: str, message: str, severity: str = "info") -> None:
        self._buffer.event(kind, message, service=rec.service, severity=severity, fault=rec.id, fault_kind=rec.kind)


def _fill(path: Path, size: int) -> None:
    """Really take the space: allocate the blocks (not a sparse file)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError:
        chunk = b"\0" * 2**20
        for _ in range(size // 2**20):
            os.write(fd, chunk)
    finally:
        os.close(fd)
