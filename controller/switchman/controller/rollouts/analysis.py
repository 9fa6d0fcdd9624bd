"""Analysis during bake: PromQL conditions that must stay false and alerts
that must not fire. A condition whose inputs have no samples at all is
inconclusive (the rollout pauses for a human), never a pass."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.promql import PromQLError
from switchman.controller.promql.conditions import holds
from switchman.controller.promql.evaluator import LOOKBACK_MS, Evaluator, selectors
from switchman.controller.promql.parser import parse
from switchman.controller.promql.values import Scalar
from switchman.controller.rollouts.model import HostState, HostStep, Rollout, Verdict

ALERT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Condition:
    name: str
    expr: str  # PromQL, or "" for an alert
    alert: str = ""  # alertname, or "" for an expression
    labels: tuple[tuple[str, str], ...] = ()  # an alert condition matches these labels too


def check_analysis(items: Sequence[str], alert_names: set[str]) -> None:
    """:raises PromQLError: for an expression that does not parse."""
    for item in items:
        if item not in alert_names:
            parse(item)


def conditions(r: Rollout, alert_names: set[str], now: int) -> list[Condition]:
    """``--analysis`` items (alert names the rule files define, else PromQL),
    or by default: the service's paging alerts and its probe on each switched
    host's live slot (a weighted host's: the new version's slot), counting
    only probes since the agent reported the new version live there: an
    older sample of that slot belongs to whatever ran in it before, or to
    the new version still starting."""
    if r.options.analysis:
        return [
            Condition(item, "", item) if item in alert_names and ALERT_NAME.fullmatch(item) else Condition(item, item)
            for item in r.options.analysis
        ]
    svc = json.dumps(r.service)
    live = [(h, h.active_slot) for h in r.hosts if h.state in (HostState.VERIFYING, HostState.HEALTHY)]
    live += [(h, h.candidate_slot) for h in r.hosts if h.state is HostState.WEIGHTED]  # the new version's slot
    probes = [
        f"last_over_time(probe_success{{service={svc},host={json.dumps(h.host_id)},slot={json.dumps(slot)}}}"
        f"[{min(LOOKBACK_MS, max(1, now - _live_since(h)))}ms]) == 0"
        for h, slot in live
        if slot
    ]
    out = [Condition("paging alerts", "", "*", (("service", r.service), ("severity", "page")))]
    if probes:
        out.append(Condition("probe_success", " or ".join(probes)))
    return out


def _live_since(h: HostStep) -> int:
    """When the agent reported the new version live on ``h``: its switch, or
    for a weighted host the step it confirmed last (each one after the new
    slot was healthy)."""
    return h.switched_ms if h.state is not HostState.WEIGHTED else h.updated_ms


def _alert_verdict(c: Condition, r: Rollout, alerts: Sequence[Alert], now: int) -> Verdict:
    hosts = {h.host_id for h in r.hosts}
    firing = [
        a
        for a in alerts
        if a.state is AlertState.FIRING
        and (c.alert == "*" or a.labels.get("alertname") == c.alert)
        and all(a.labels.get(k) == v for k, v in c.labels)
        and (a.labels.get("service", r.service) == r.service)
        and (a.labels.get("host", "") in hosts or "host" not in a.labels)
    ]
    return Verdict(c.name, c.alert, "fail" if firing else "pass", float(len(firing)), now)


def _expr_verdict(c: Condition, ev: Evaluator, now: int) -> Verdict:
    node = parse(c.expr)
    value = ev.instant(node, now)
    if isinstance(value, Scalar):
        return Verdict(c.name, c.expr, "fail" if value.v != 0 else "pass", value.v, now)
    true, first = holds(value)
    if true:
        return Verdict(c.name, c.expr, "fail", first, now)
    has_data = any(
        ev.source.select(sel.matchers, now - sel.offset_ms - LOOKBACK_MS, now - sel.offset_ms)
        for sel, _ in selectors(node)
    )
    return Verdict(c.name, c.expr, "pass" if has_data else "inconclusive", 0.0, now)


def evaluate(
    r: Rollout, alert_names: set[str], ev: Evaluator, alerts: Callable[[], Sequence[Alert]], now: int
) -> list[Verdict]:
    """Blocking (reads the store)."""
    out = []
    for c in conditions(r, alert_names, now):
        try:
            out.append(_alert_verdict(c, r, alerts(), now) if c.alert else _expr_verdict(c, ev, now))
        except PromQLError as exc:
            out.append(Verdict(c.name, c.expr, "inconclusive", 0.0, now))
            out[-1].expr = f"{c.expr} ({exc})"
    return out
