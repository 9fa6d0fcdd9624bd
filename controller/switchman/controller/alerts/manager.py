"""Loads rule files, evaluates each group on its interval over the store,
writes recording-rule series and ``ALERTS``/``ALERTS_FOR_STATE``, and keeps
alert state in SQLite so a restart (kill -9 included) keeps ``activeAt`` and
firing state. A reload with an invalid file keeps the previous rules."""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchman.controller.alerts.engine import Alert, AlertingRule, AlertState, evaluate_recording
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.alerts.rules import Group, Rule, load_rule_file
from switchman.controller.core import Core
from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.source import SampleSource
from switchman.controller.promql.values import Sample, Series

log = logging.getLogger(__name__)


def rule_key(group: Group, rule: Rule) -> str:
    return f"{group.file}:{group.name}:{rule.name}:{rule.line}"


class MemoSource:
    """Remembers each selector's samples for one evaluation instant."""

    def __init__(self, inner: SampleSource) -> None:
        self._inner = inner
        self._memo: dict[tuple[tuple[Matcher, ...], int, int], list[Series]] = {}

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        key = (tuple(matchers), start_ms, end_ms)
        if key not in self._memo:
            self._memo[key] = self._inner.select(matchers, start_ms, end_ms)
        return self._memo[key]

    def forget(self, name: str) -> None:
        """A rule just wrote series called ``name``: drop reads that could include them."""
        for key in list(self._memo):
            if any(m.name == "__name__" and m.matches(name) for m in key[0]) or not any(
                m.name == "__name__" for m in key[0]
            ):
                del self._memo[key]


@dataclass
class RuleHealth:
    last_eval_ms: int = 0
    last_error: str = ""
    seconds: float = 0.0


@dataclass
class RuleManager:
    core: Core
    patterns: list[str]
    groups: list[Group] = field(default_factory=list)
    alerting: dict[str, AlertingRule] = field(default_factory=dict)
    health: dict[str, RuleHealth] = field(default_factory=dict)

    def files(self) -> list[str]:
        out: list[str] = []
        for p in self.patterns:
            matched = sorted(glob.glob(p))
            out += matched if matched or any(c in p for c in "*?[") else [p]
        return out

    def load(self) -> list[str]:
        """(Re)load every rule file; on any error keep the running rules and return the errors."""
        groups: list[Group] = []
        errors: list[str] = []
        for f in self.files():
            result = load_rule_file(f)
            errors += result.errors
            groups += result.groups
        if errors:
            return errors
        keep = self.alerting
        self.alerting = {}
        for g in groups:
            for r in g.rules:
                if r.kind == "alerting":
                    key = rule_key(g, r)
                    self.alerting[key] = keep.get(key) or AlertingRule(r)
                    self.alerting[key].rule = r
        self.groups = groups
        return []

    def restore(self, conn: sqlite3.Connection) -> int:
        """Alert state from the database (after a restart)."""
        n = 0
        for key, _, labels, notes, state, active, fired, resolved, value, keep in conn.execute("SELECT * FROM alerts"):
            ar = self.alerting.get(key)
            if ar is None:
                continue
            lbl = json.loads(labels)
            ar.active[tuple(sorted(lbl.items()))] = Alert(
                lbl, json.loads(notes), AlertState(state), active, value, fired, resolved, keep
            )
            n += 1
        return n

    async def evaluate_group(self, group: Group) -> None:
        ts = self.core.clock_ms()
        written: list[Sample] = []
        states: dict[str, AlertingRule] = {}
        # rules of a group share their selectors' reads at this instant; a recording
        # rule's output is written before the next rule runs (later rules may use it)
        memo = MemoSource(self.core.evaluator.source)
        ev = Evaluator(memo)
        for r in group.rules:
            key = rule_key(group, r)
            health = self.health.setdefault(key, RuleHealth())
            started = time.perf_counter()
            try:
                if r.kind == "recording":
                    recorded = await asyncio.to_thread(evaluate_recording, r, ev, ts)
                    await self._write(recorded, {}, ts)
                    memo.forget(r.name)
                else:
                    value = await asyncio.to_thread(ev.instant, r.expr, ts)
                    samples = [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []
                    ar = self.alerting[key]
                    written += ar.evaluate(samples, ts)
                    states[key] = ar
                health.last_error = ""
            except PromQLError as exc:
                health.last_error = str(exc)
                log.warning("rule %s in group %s: %s", r.name, group.name, exc)
            health.last_eval_ms = ts
            health.seconds = time.perf_counter() - started
        await self._write(written, states, ts)

    async def _write(self, samples: list[Sample], states: dict[str, AlertingRule], ts: int) -> None:
        core = self.core
        assert core.writer is not None
        writer = core.writer

        def job(conn: sqlite3.Connection) -> None:
            rows = []
            for s in samples:
                name = s.labels.get("__name__", "")
                labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__"))
                sid = core.index.intern(conn, writer, name, labels, s.labels.get("host", ""), ts)
                rows.append((sid, ts, s.v))
            conn.executemany("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?,?,?)", rows)
            for key, ar in states.items():  # alert state written with the samples, in one transaction
                conn.execute("DELETE FROM alerts WHERE rule_key = ?", (key,))
                conn.executemany(
                    "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            key,
                            fingerprint(a.labels),
                            json.dumps(a.labels),
                            json.dumps(a.annotations),
                            a.state.value,
                            a.active_at_ms,
                            a.fired_at_ms,
                            a.resolved_at_ms,
                            a.value,
                            a.keep_firing_since_ms,
                        )
                        for a in ar.active.values()
                    ],
                )

        await writer.run(job)

    def all_alerts(self) -> list[Alert]:
        """Pending, firing, and resolved within the last 15 minutes."""
        return [a for ar in self.alerting.values() for a in ar.active.values()]

    def alerts(self) -> list[Alert]:
        return [a for ar in self.alerting.values() for a in ar.active.values() if a.state is not AlertState.INACTIVE]
