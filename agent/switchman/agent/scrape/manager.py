"""Scrape loops, one per target: fetch, parse, keep or drop by the target's
``metric_relabel``, add the target labels, and hand the samples to the next
collection cycle (so they go through the spool like host metrics). Series
gone from a scrape, every series of a failed scrape and of a removed target
get staleness markers, and each scrape writes ``up``,
``scrape_duration_seconds``, ``scrape_samples_scraped``,
``scrape_samples_post_metric_relabeling`` and ``scrape_series_added`` as
Prometheus does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchman.agent.scrape.fetch import ScrapeFailed, fetch
from switchman.agent.scrape.targets import ScrapeTarget
from switchman.agent.scrape.textparse import ParseError, Scraped, parse_text
from switchman.proto.staleness import STALE_NAN
from switchman.proto.v1 import common_pb2

log = logging.getLogger(__name__)

Key = tuple[str, tuple[tuple[str, str], ...]]
TARGET_LABELS = ("job", "instance", "host")  # host: the controller sets it on every series
MAX_PENDING = 500_000  # samples waiting for the next cycle; beyond it the oldest scrape is dropped


@dataclass
class TargetHealth:
    """What ``/api/v1/targets`` shows of a scrape."""

    target: ScrapeTarget
    last_scrape_ms: int = 0
    last_duration_s: float = 0.0
    last_error: str = ""
    up: bool = False


@dataclass
class _Loop:
    target: ScrapeTarget
    health: TargetHealth
    series: set[Key] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


def target_labels(target: ScrapeTarget) -> dict[str, str]:
    return {"job": target.job, "instance": target.instance, **dict(target.extra)}


def labelled(target: ScrapeTarget, s: Scraped) -> dict[str, str] | None:
    """The sample's labels with the target's (``honor_labels`` decides a
    clash; otherwise the scraped label becomes ``exported_<name>``), or None when relabelling drops it."""
    own = target_labels(target)
    labels: dict[str, str] = {}
    for k, v in s.labels:
        if not v:
            continue  # an empty label is no label
        if (k in own or k == "host") and not target.honor_labels:
            labels[f"exported_{k}"] = v
        else:
            labels[k] = v
    for k, v in own.items():
        if target.honor_labels and k in labels:
            continue
        labels[k] = v
    return labels if target.keeps(s.name, labels) else None


class ScrapeManager:
    def __init__(self, user_agent: str) -> None:
        self._user_agent = user_agent
        self._loops: dict[tuple[str, str], _Loop] = {}
        self._pending: list[common_pb2.Series] = []
        self._pending_samples = 0

    def health(self) -> list[TargetHealth]:
        return [loop.health for loop in self._loops.values()]

    def sync(self, targets: Sequence[ScrapeTarget]) -> None:
        """Run exactly these targets: start new ones, stop removed ones (their series go stale)."""
        wanted = {(t.job, t.url): t for t in targets}
        for key in list(self._loops):
            loop = self._loops[key]
            if key not in wanted or wanted[key] != loop.target:
                loop.cancel()
                self._mark_stale(loop.series, int(time.time() * 1000))
                del self._loops[key]
        for key, target in wanted.items():
            if key not in self._loops:
                health = TargetHealth(target)
                entry = _Loop(target, health)
                entry.task = asyncio.create_task(self._run(entry), name=f"scrape {target.job} {target.url}")
                self._loops[key] = entry

    def drain(self) -> list[common_pb2.Series]:
        out, self._pending, self._pending_samples = self._pending, [], 0
        return out

    async def close(self) -> None:
        loops = list(self._loops.values())
        self._loops.clear()
        for loop in loops:
            loop.cancel()
        for loop in loops:
            if loop.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await loop.task

    async def _run(self, entry: _Loop) -> None:
        interval = entry.target.interval
        next_at = time.monotonic()
        while True:
            await self.scrape_once(entry)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind: skip, never burst
                next_at = time.monotonic() + interval
                delay = interval
            await asyncio.sleep(delay)

    async def scrape_once(self, entry: _Loop) -> None:
        target, health = entry.target, entry.health
        started = time.time()
        ts = int(started * 1000)
        t0 = time.perf_counter()
        samples: list[Scraped] = []
        error = ""
        try:
            body = await fetch(target.url, target.timeout, self._user_agent)
            samples, _ = parse_text(body)
        except (ScrapeFailed, ParseError) as exc:
            error = str(exc)
        duration = time.perf_counter() - t0
        out: list[common_pb2.Series] = []
        seen: set[Key] = set()
        for s in samples:
            labels = labelled(target, s)
            if labels is None:
                continue
            key = (s.name, tuple(sorted(labels.items())))
            seen.add(key)
            out.append(
                common_pb2.Series(name=s.name, labels=labels, timestamps_ms=[s.timestamp_ms or ts], values=[s.value])
            )
        added = len(seen - entry.series)
        self._mark_stale(entry.series - seen, ts)  # a failed scrape marks everything it had
        entry.series = seen
        own = target_labels(target)
        for name, value in (
            ("up", 0.0 if error else 1.0),
            ("scrape_duration_seconds", duration),
            ("scrape_samples_scraped", float(len(samples))),
            ("scrape_samples_post_metric_relabeling", float(len(out))),
            ("scrape_series_added", float(added)),
        ):
            out.append(common_pb2.Series(name=name, labels=own, timestamps_ms=[ts], values=[value]))
        if error and not health.last_error:
            log.warning("scrape of %s (job %s) failed: %s", target.url, target.job, error)
        elif not error and health.last_error:
            log.info("scrape of %s (job %s) works again", target.url, target.job)
        health.last_scrape_ms, health.last_duration_s, health.last_error, health.up = ts, duration, error, not error
        self._add(out)

    def _mark_stale(self, keys: set[Key], ts: int) -> None:
        self._add(
            [
                common_pb2.Series(name=name, labels=dict(labels), timestamps_ms=[ts], values=[STALE_NAN])
                for name, labels in sorted(keys)
            ]
        )

    def _add(self, series: list[common_pb2.Series]) -> None:
        if self._pending_samples + len(series) > MAX_PENDING:
            log.warning("scrape samples waiting for the spool exceed %d; dropping this scrape", MAX_PENDING)
            return
        self._pending.extend(series)
        self._pending_samples += len(series)
