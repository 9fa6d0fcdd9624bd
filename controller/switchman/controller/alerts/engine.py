"""Rule evaluation with Prometheus' semantics (2.x ``AlertingRule.Eval``):
pure state over an injected evaluation time, no I/O.

An alert is identified by its labels (the sample's labels without
``__name__``, plus the rule's templated labels and ``alertname``). It turns
``pending`` at the first evaluation that returns it (``activeAt``), ``firing``
once ``ts - activeAt >= for``; when the expression stops returning it a
pending alert is forgotten and a firing one resolves, unless
``keep_firing_for`` holds it. Each evaluation yields the ``ALERTS`` and
``ALERTS_FOR_STATE`` samples."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum

from switchman.controller.alerts.rules import Rule
from switchman.controller.alerts.templates import Context, expand
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.values import Labels, Sample, Scalar

RESOLVED_RETENTION_MS = 15 * 60_000


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass
class Alert:
    labels: Labels
    annotations: dict[str, str]
    state: AlertState
    active_at_ms: int
    value: float
    fired_at_ms: int = 0
    resolved_at_ms: int = 0
    keep_firing_since_ms: int = 0

    @functools.cached_property
    def order(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """How lists show alerts: by name, then labels (an alert's labels never change)."""
        return self.labels.get("alertname", ""), _key(self.labels)


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


Prepared = dict[tuple[tuple[str, str], ...], "Alert"]  # an evaluation's alerts by their labels


@dataclass
class AlertingRule:
    rule: Rule
    active: dict[tuple[tuple[str, str], ...], Alert] = field(default_factory=dict)

    def evaluate(self, results: list[Sample], ts: int, ctx: Context | None = None) -> list[Sample]:
        """Advance the state machine with the expression's result at ``ts``;
        returns the ALERTS and ALERTS_FOR_STATE samples."""
        return self.advance(self.prepare(results, ts, ctx), ts)

    def prepare(self, results: list[Sample], ts: int, ctx: Context | None = None) -> Prepared:
        """The alerts the result makes, labels and annotations expanded; reads
        nothing of the state, so it may run in a worker thread. Templates see
        the sample's labels with ``__name__``, as Prometheus' do; ``ctx``
        gives them ``query`` and the external labels.

        :raises PromQLError: two samples make the same alert."""
        r = self.rule
        current: Prepared = {}
        for s in results:
            labels = {k: v for k, v in s.labels.items() if k != "__name__"}
            for k, v in r.labels.items():
                labels[k] = expand(v, s.labels, s.v, ctx, alert=r.name)
            labels["alertname"] = r.name
            annotations = {k: expand(v, s.labels, s.v, ctx, alert=r.name) for k, v in r.annotations.items()}
            key = _key(labels)
            if key in current:
                raise PromQLError("vector contains metrics with the same labelset after applying alert labels")
            current[key] = Alert(labels, annotations, AlertState.PENDING, ts, s.v)
        return current

    def advance(self, current: Prepared, ts: int) -> list[Sample]:
        """The state machine's step at ``ts`` with what :meth:`prepare` made (on the loop)."""
        r = self.rule
        for key, a in current.items():
            known = self.active.get(key)
            if known is not None and known.state is not AlertState.INACTIVE:
                known.value, known.annotations = a.value, a.annotations
                continue
            self.active[key] = a
        out: list[Sample] = []
        for key, a in list(self.active.items()):
            if key not in current:
                keep_firing = False
                if a.state is AlertState.FIRING and r.keep_firing_for_ms > 0:
                    if not a.keep_firing_since_ms:
                        a.keep_firing_since_ms = ts
                    keep_firing = ts - a.keep_firing_since_ms < r.keep_firing_for_ms
                if a.state is AlertState.PENDING or (
                    a.resolved_at_ms and ts - a.resolved_at_ms > RESOLVED_RETENTION_MS
                ):
                    del self.active[key]
                if a.state is not AlertState.INACTIVE and not keep_firing:
                    a.state = AlertState.INACTIVE
                    a.resolved_at_ms = ts
                if not keep_firing:
                    continue
            else:
                a.keep_firing_since_ms = 0
            if a.state is AlertState.PENDING and ts - a.active_at_ms >= r.for_ms:
                a.state = AlertState.FIRING
                a.fired_at_ms = ts
            out.append(Sample({"__name__": "ALERTS", **a.labels, "alertstate": a.state.value}, ts, 1.0))
            out.append(Sample({"__name__": "ALERTS_FOR_STATE", **a.labels}, ts, a.active_at_ms / 1000))
        return out

    def over_limit(self, limit: int) -> int:
        """With ``limit`` set and more pending or firing alerts than it allows:
        forget them all (as Prometheus does) and return how many there were; else 0."""
        active = sum(1 for a in self.active.values() if a.state is not AlertState.INACTIVE)
        if not limit or active <= limit:
            return 0
        self.active.clear()
        return active

    def firing(self) -> list[Alert]:
        return [a for a in self.active.values() if a.state is AlertState.FIRING]


def evaluate_recording(rule: Rule, ev: Evaluator, ts: int) -> list[Sample]:
    """A recording rule's samples at ``ts``: the result renamed, with the rule's labels."""
    value = ev.instant(rule.expr, ts)
    samples = [Sample({}, ts, value.v)] if isinstance(value, Scalar) else [s for s in value if isinstance(s, Sample)]  # type: ignore[union-attr]
    out = []
    for s in samples:
        labels = {**s.labels, **rule.labels, "__name__": rule.name}
        out.append(Sample(labels, ts, s.v))
    keys = [_key(s.labels) for s in out]
    if len(keys) != len(set(keys)):
        raise PromQLError("vector contains metrics with the same labelset after applying rule labels")
    return out
