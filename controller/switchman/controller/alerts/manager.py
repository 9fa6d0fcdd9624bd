"""Loads rule files, evaluates each group on its interval over the store,
writes recording-rule series and ``ALERTS``/``ALERTS_FOR_STATE``, and keeps
alert state in SQLite so a restart (kill -9 included) keeps ``activeAt`` and
firing state. A reload with an invalid file keeps the previous rules."""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from switchman.controller.alerts.engine import Alert, AlertingRule, AlertState, Prepared, evaluate_recording
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.alerts.rules import Group, Rule, load_rule_file
from switchman.controller.alerts.templates import Context, query_func
from switchman.controller.paths import expand_globs
from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.evaluator import Evaluator, read_block, selectors
from switchman.controller.promql.source import SampleSource
from switchman.controller.promql.steps import Columns
from switchman.controller.promql.values import Sample, Series
from switchman.controller.promql.windows import Block
from switchman.controller.store.abc import AlertRecord, Store, Tx

Outcome = list[Sample] | Prepared | PromQLError  # a recording rule's samples, an alerting rule's alerts

log = logging.getLogger(__name__)


def rule_key(group: Group, rule: Rule) -> str:
    return f"{group.file}:{group.name}:{rule.name}:{rule.line}"


class MemoSource:
    """Reads each selector once per group evaluation, over the widest window
    any rule of the group needs, and answers every rule from memory."""

    def __init__(self, inner: SampleSource, spans: dict[tuple[Matcher, ...], tuple[int, int]]) -> None:
        self._inner, self._spans = inner, spans
        self._blocks: dict[tuple[Matcher, ...], Block] = {}
        self.vectors: dict[tuple[object, ...], Columns] = {}  # Evaluator.shared

    @classmethod
    def for_group(cls, inner: SampleSource, group: Group, ts: int) -> MemoSource:
        """Each selector's widest window among the group's rules at ``ts``."""
        spans: dict[tuple[Matcher, ...], tuple[int, int]] = {}
        for r in group.rules:
            for sel, back in selectors(r.expr):
                lo, hi = ts - sel.offset_ms - back, ts - sel.offset_ms
                known = spans.get(sel.matchers, (lo, hi))
                spans[sel.matchers] = (min(known[0], lo), max(known[1], hi))
        return cls(inner, spans)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        out = []
        for s in self.select_covering(matchers, start_ms, end_ms):
            i, j = bisect.bisect_left(s.ts, start_ms), bisect.bisect_right(s.ts, end_ms)
            if i == 0 and j == len(s.ts):
                out.append(s)  # the whole series: keep the object (and its cached sort key)
            elif i < j:
                out.append(Series(s.labels, s.ts[i:j], s.vs[i:j], s.sort_key(), stale=s.stale))
        return out

    def select_covering(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        """Series with every sample in ``[start, end]`` and maybe more around
        it, without slicing: for callers that bisect by themselves."""
        return self.select_block(matchers, start_ms, end_ms).series

    def select_block(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Block:
        """:meth:`select_covering` as one block (read once per group evaluation)."""
        key = tuple(matchers)
        lo, hi = self._spans.get(key, (start_ms, end_ms))
        if start_ms < lo or end_ms > hi:
            return read_block(self._inner, matchers, start_ms, end_ms)
        if key not in self._blocks:
            self._blocks[key] = read_block(self._inner, matchers, lo, hi)
        return self._blocks[key]

    def forget(self, name: str) -> None:
        """A rule just wrote series called ``name``: drop reads that could include them."""
        for key in list(self._blocks):
            if _could_match(key, name):
                del self._blocks[key]
        for vkey in list(self.vectors):
            matchers = vkey[0] if isinstance(vkey[0], tuple) else vkey[1]
            if isinstance(matchers, tuple) and _could_match(matchers, name):
                del self.vectors[vkey]


def _could_match(matchers: tuple[Matcher, ...], name: str) -> bool:
    names = [m for m in matchers if m.name == "__name__"]
    return not names or all(m.matches(name) for m in names)


@dataclass
class RuleHealth:
    last_eval_ms: int = 0
    last_error: str = ""
    seconds: float = 0.0


@dataclass
class RuleManager:
    store: Store
    evaluator: Evaluator
    clock_ms: Callable[[], int]
    patterns: list[str]
    groups: list[Group] = field(default_factory=list)
    alerting: dict[str, AlertingRule] = field(default_factory=dict)
    health: dict[str, RuleHealth] = field(default_factory=dict)
    _written: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)
    extra_groups: list[Group] = field(default_factory=list)
    _feeds: dict[int, tuple[Group, list[bool]]] = field(default_factory=dict)  # see _read_later

    def files(self) -> list[str]:
        return expand_globs(self.patterns)

    def load(self) -> list[str]:
        """(Re)load every rule file; on any error keep the running rules and
        return the errors. ``extra_groups`` (the SLOs' alerts) join the files'."""
        groups: list[Group] = list(self.extra_groups)
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
        self._feeds = {}  # the old groups' analyses would keep the old groups alive
        return []

    def restore(self) -> int:
        """Alert state from the store (after a restart). Blocking."""
        n = 0
        for a in self.store.alerts.all():
            ar = self.alerting.get(a.rule_key)
            if ar is None:
                continue
            ar.active[tuple(sorted(a.labels.items()))] = Alert(
                dict(a.labels),
                dict(a.annotations),
                AlertState(a.state),
                a.active_at_ms,
                a.value,
                a.fired_at_ms,
                a.resolved_at_ms,
                a.keep_firing_since_ms,
            )
            n += 1
        return n

    async def evaluate_group(self, group: Group) -> None:
        """One evaluation of a group: expressions and alert templates in a
        worker thread (one hop per group), alert state machines and the final
        write on the loop."""
        ts = self.clock_ms()
        results, written = await asyncio.to_thread(self._evaluate_expressions, group, ts)
        states: dict[str, AlertingRule] = {}
        for r, key, outcome, seconds in results:
            health = self.health.setdefault(key, RuleHealth())
            try:
                if isinstance(outcome, PromQLError):
                    raise outcome
                if r.kind == "alerting":
                    ar = self.alerting[key]
                    assert isinstance(outcome, dict)
                    samples = ar.advance(outcome, ts)
                    states[key] = ar
                    over = ar.over_limit(group.limit)  # Prometheus: all of the rule's alerts are dropped
                    if over:
                        raise PromQLError(f"exceeded limit of {group.limit} with {over} alerts")
                    written += samples
                health.last_error = ""
            except PromQLError as exc:
                health.last_error = str(exc)
                log.warning("rule %s in group %s: %s", r.name, group.name, exc)
            health.last_eval_ms = ts
            health.seconds = seconds
        await self._write(written, states, ts)

    def _evaluate_expressions(
        self, group: Group, ts: int
    ) -> tuple[list[tuple[Rule, str, Outcome, float]], list[Sample]]:
        """Blocking. Rules of a group share their selectors' reads at this
        instant; a recording rule's output is committed before the next rule
        runs when a later rule may read it, else it joins the group's final
        write (returned with the outcomes)."""
        memo = MemoSource.for_group(self.evaluator.source, group, ts)
        ev = Evaluator(memo, shared=memo.vectors)
        out: list[tuple[Rule, str, Outcome, float]] = []
        deferred: list[Sample] = []
        read_later = self._read_later(group)
        for i, r in enumerate(group.rules):
            started = time.perf_counter()
            outcome: Outcome
            try:
                if r.kind == "recording":
                    outcome = evaluate_recording(r, ev, ts)
                    if group.limit and len(outcome) > group.limit:  # Prometheus: the rule fails, nothing is written
                        raise PromQLError(f"exceeded limit of {group.limit} with {len(outcome)} series")
                    if read_later[i]:
                        self.store.write_now(self._job(outcome, {}, ts))
                        memo.forget(r.name)
                    else:
                        deferred += outcome
                else:
                    value = ev.instant(r.expr, ts)
                    samples = [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []
                    ctx = Context(ts_ms=ts, query=query_func(self.evaluator, ts))
                    outcome = self.alerting[rule_key(group, r)].prepare(samples, ts, ctx)
            except PromQLError as exc:
                outcome = exc
            out.append((r, rule_key(group, r), outcome, time.perf_counter() - started))
        return out, deferred

    def _read_later(self, group: Group) -> list[bool]:
        """Per rule: whether a later rule of the group may read the series it
        records (a selector that could match its name, or a template that
        queries). Computed once per loaded group."""
        known = self._feeds.get(id(group))
        if known is not None and known[0] is group:
            return known[1]
        flags = [False] * len(group.rules)
        reads: list[tuple[Matcher, ...]] = []
        queries = False
        for i in range(len(group.rules) - 1, -1, -1):  # from the last rule back: what the rules after i read
            r = group.rules[i]
            if r.kind == "recording":
                flags[i] = queries or any(_could_match(m, r.name) for m in reads)
            reads += [sel.matchers for sel, _ in selectors(r.expr)]
            texts = [*r.labels.values(), *r.annotations.values()]
            queries = queries or any("query" in t for t in texts)
        self._feeds[id(group)] = (group, flags)
        return flags

    def _changed_states(
        self, states: dict[str, AlertingRule]
    ) -> tuple[dict[str, list[AlertRecord]], dict[str, list[tuple[object, ...]]]]:  # records, shapes
        """The alerts of the rules whose alerts changed state since they were
        last written (a changed value alone is not worth a write: the next
        evaluation recomputes it)."""
        out: dict[str, list[AlertRecord]] = {}
        shapes: dict[str, list[tuple[object, ...]]] = {}
        for key, ar in states.items():
            shape: list[tuple[object, ...]] = [
                (labels, a.state.value, a.active_at_ms, a.fired_at_ms, a.resolved_at_ms, a.keep_firing_since_ms)
                for labels, a in ar.active.items()
            ]
            if self._written.get(key) == shape:
                continue
            out[key] = [
                AlertRecord(
                    key,
                    fingerprint(a.labels),
                    dict(a.labels),
                    dict(a.annotations),
                    a.state.value,
                    a.active_at_ms,
                    a.fired_at_ms,
                    a.resolved_at_ms,
                    a.value,
                    a.keep_firing_since_ms,
                )
                for a in ar.active.values()
            ]
            shapes[key] = shape
        return out, shapes

    def _job(self, samples: list[Sample], changed: dict[str, list[AlertRecord]], ts: int) -> Callable[[Tx], None]:
        store = self.store

        def job(tx: Tx) -> None:
            store.samples.add(tx, samples, ts)
            for key, records in changed.items():  # alert state written with the samples, in one transaction
                store.alerts.replace(tx, key, records)

        return job

    async def _write(self, samples: list[Sample], states: dict[str, AlertingRule], ts: int) -> None:
        changed, shapes = self._changed_states(states)
        await self.store.write(self._job(samples, changed, ts))
        self._written.update(shapes)  # only once committed

    def all_alerts(self) -> list[Alert]:
        """Pending, firing, and resolved within the last 15 minutes."""
        return [a for ar in self.alerting.values() for a in ar.active.values()]

    def alerts(self) -> list[Alert]:
        return [a for ar in self.alerting.values() for a in ar.active.values() if a.state is not AlertState.INACTIVE]
