"""Computes every SLO's error ratio over the standard windows, writes them as
Sloth's ``slo:*`` series, and generates the multiwindow multi-burn-rate
alerts as rule groups for the rule engine, as Sloth generates them
(:mod:`.sloth`; for a 30d period: page 14.4x over 1h and 5m or 6x over 6h
and 30m, ticket 3x over 2h and 1d or 1x over 6h and 3d)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from switchman.controller.alerts.rules import Group, Rule
from switchman.controller.promql import ast, parse
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.values import Sample, Scalar
from switchman.controller.slo import sloth
from switchman.controller.slo.spec import SLO, WINDOW
from switchman.controller.store.abc import Store

log = logging.getLogger(__name__)

WINDOWS: tuple[tuple[str, int], ...] = (
    ("5m", 300_000),
    ("30m", 1_800_000),
    ("1h", 3_600_000),
    ("2h", 7_200_000),
    ("6h", 21_600_000),
    ("1d", 86_400_000),
    ("3d", 259_200_000),
)
PERIOD_EVERY_MS = 300_000  # the period window is the costly one: computed every 5 minutes


@dataclass
class WindowValue:
    window: str
    ratio: float | None  # None: insufficient data
    events: float | None  # None: unknown (raw SLIs)

    @property
    def insufficient(self) -> bool:
        return self.ratio is None


@dataclass
class SLOState:
    slo: SLO
    windows: dict[str, WindowValue] = field(default_factory=dict)
    period_at_ms: int = 0
    evaluated_ms: int = 0
    error: str = ""


def _sum(value: object) -> float | None:
    if isinstance(value, Scalar):
        return value.v
    samples = [s.v for s in value if isinstance(s, Sample)] if isinstance(value, list) else []
    return math.fsum(samples) if samples else None


class SLOEngine:
    def __init__(
        self,
        store: Store,
        evaluator: Evaluator,
        clock_ms: Callable[[], int],
        period: str = "30d",
        period_ms: int = 30 * 86_400_000,
    ) -> None:
        self.store = store
        self.evaluator = evaluator
        self.clock_ms = clock_ms
        self.period, self.period_ms = period, period_ms
        self.states: dict[str, SLOState] = {}

    def configure(self, slos: Sequence[SLO]) -> None:
        old = self.states
        self.states = {s.id: old.get(s.id, SLOState(s)) for s in slos}
        for st, s in zip(self.states.values(), slos, strict=True):
            st.slo = s

    def windows(self) -> tuple[tuple[str, int], ...]:
        return (*WINDOWS, (self.period, self.period_ms))

    # one window ---------------------------------------------------------------
    def compute(self, slo: SLO, window: str, window_ms: int, now: int) -> WindowValue:
        """Blocking (reads the store)."""
        ev = self.evaluator
        if slo.kind == "events":
            errors = _sum(ev.instant(parse(slo.error_query.replace(WINDOW, window)), now))
            total = _sum(ev.instant(parse(slo.total_query.replace(WINDOW, window)), now))
            if not total:
                return WindowValue(window, None, 0.0)
            events = total * window_ms / 1000 if "rate(" in slo.total_query else total
            ratio = (errors or 0.0) / total
            return WindowValue(window, ratio if events >= slo.min_events else None, events)
        if slo.kind == "raw":
            raw = _sum(ev.instant(parse(slo.ratio_query.replace(WINDOW, window)), now))
            return WindowValue(window, raw if raw is not None and not math.isnan(raw) else None, None)
        return self._probe_ratio(slo, window, window_ms, now)

    def _probe_ratio(self, slo: SLO, window: str, window_ms: int, now: int) -> WindowValue:
        """Checks in the window: failed ones (``sli.probe``), or failed or slower than the threshold (``sli.latency``)."""
        source = self.evaluator.source
        svc = ast.Matcher.make("service", ast.MatchOp.EQ, slo.probe_service)
        success = source.select(
            [ast.Matcher.make("__name__", ast.MatchOp.EQ, "probe_success"), svc], now - window_ms, now
        )
        outcome: dict[tuple[tuple[tuple[str, str], ...], int], float] = {}
        for s in success:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__"))
            outcome.update({(key, t): v for t, v in zip(s.ts, s.vs, strict=True)})
        bad = sum(1 for v in outcome.values() if v == 0)
        if slo.kind == "latency":
            durations = source.select(
                [ast.Matcher.make("__name__", ast.MatchOp.EQ, "probe_duration_seconds"), svc], now - window_ms, now
            )
            for s in durations:
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__"))
                bad += sum(
                    1 for t, v in zip(s.ts, s.vs, strict=True) if v > slo.threshold_s and outcome.get((key, t)) != 0
                )
        total = len(outcome)
        if total < slo.min_events:
            return WindowValue(window, None, float(total))
        return WindowValue(window, bad / total, float(total))

    # a cycle ----------------------------------------------------------------
    async def evaluate(self) -> int:
        """Every SLO, every window; writes the slo:* series. Returns samples written."""
        now = self.clock_ms()
        started = time.perf_counter()
        samples: list[Sample] = []
        for st in list(self.states.values()):
            try:
                await asyncio.to_thread(self._evaluate_one, st, now)
                st.error = ""
            except Exception as exc:  # one bad SLO never stops the others
                st.error = str(exc)
                log.warning("SLO %s: %s", st.slo.id, exc)
                continue
            samples += self.series(st)
        if samples:
            store = self.store
            await store.write(lambda tx: store.samples.add(tx, samples, now))
        log.debug("evaluated %d SLO(s) in %.3fs", len(self.states), time.perf_counter() - started)
        return len(samples)

    def _evaluate_one(self, st: SLOState, now: int) -> None:
        for window, ms in WINDOWS:
            st.windows[window] = self.compute(st.slo, window, ms, now)
        last = st.windows.get(self.period)
        if now - st.period_at_ms >= PERIOD_EVERY_MS or last is None or last.insufficient:
            st.windows[self.period] = self.compute(st.slo, self.period, self.period_ms, now)
            st.period_at_ms = now
        st.evaluated_ms = now

    def series(self, st: SLOState) -> list[Sample]:
        slo, lbl = st.slo, st.slo.series_labels()
        out = [
            Sample({"__name__": f"slo:sli_error:ratio_rate{w}", **sloth.sli_labels(slo, w)}, 0, v.ratio)
            for w, v in st.windows.items()
            if v.ratio is not None
        ]
        out += [
            Sample({"__name__": "slo:objective:ratio", **lbl}, 0, slo.objective / 100),
            Sample({"__name__": "slo:error_budget:ratio", **lbl}, 0, slo.budget),
            Sample({"__name__": "slo:time_period:days", **lbl}, 0, self.period_ms / 86_400_000),
            Sample({"__name__": "sloth_slo_info", **sloth.info_labels(slo)}, 0, 1.0),
        ]
        short, period = st.windows.get("5m"), st.windows.get(self.period)
        if short is not None and short.ratio is not None:
            out.append(Sample({"__name__": "slo:current_burn_rate:ratio", **lbl}, 0, short.ratio / slo.budget))
        if period is not None and period.ratio is not None:
            burn = period.ratio / slo.budget
            out.append(Sample({"__name__": "slo:period_burn_rate:ratio", **lbl}, 0, burn))
            out.append(Sample({"__name__": "slo:period_error_budget_remaining:ratio", **lbl}, 0, 1 - burn))
        return out


def burn_alerts(slos: Sequence[SLO], interval_ms: int, period_days: float = 30) -> list[Group]:
    """One group per SLO with its page and ticket alerts, Sloth's (``sloth-slo-alerts-<id>``).

    Switchman adds ``severity`` (``page`` or ``ticket``) and ``service`` under
    the SLO's own labels, so that the alerts open incidents; a label the file
    sets wins."""
    groups = []
    for slo in slos:
        rules = []
        for line, r in enumerate(sloth.alert_rules(slo, period_days)):
            labels = {"service": slo.service, "severity": r.labels["sloth_severity"], **r.labels}
            rules.append(
                Rule(r.alert, "alerting", parse(r.expr), r.expr, labels=labels, annotations=r.annotations, line=line)
            )
        if rules:
            groups.append(Group(f"sloth-slo-alerts-{slo.id}", interval_ms, tuple(rules), slo.file))
    return groups
