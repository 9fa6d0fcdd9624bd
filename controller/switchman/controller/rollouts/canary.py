"""Canary checks of a weighted step (ADR 0022): the new slot against the old
slot on the same hosts, over the step's bake window, from the request
metrics the routers count (``switchman_service_requests_total`` and the
``switchman_service_request_duration_seconds`` histogram) as the store holds
them, in PromQL:

* error rate: the new slot's 5xx share of its requests, at most
  ``max_error_rate``;
* latency: the new slot's p99 (``histogram_quantile(0.99, ...)``) against the
  old slot's, at most ``max_latency_regression`` higher. At 100 % the old
  slot takes no requests: the check is *skipped* (another window's p99 is no
  baseline: a busier minute looks like a regression).

Fewer than ``min_requests`` requests on the new slot (or on the old one, for
the latency baseline) is *inconclusive*, never a pass. Before the window
ends a check is *pending*: it shows the numbers so far and decides nothing."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.parser import parse
from switchman.controller.promql.values import Sample, Scalar
from switchman.controller.rollouts.model import HostState, Rollout, Verdict

REQUESTS = "switchman_service_requests_total"
BUCKETS = "switchman_service_request_duration_seconds_bucket"
ERROR_RATE = "error rate"
LATENCY = "p99 latency"


@dataclass(frozen=True)
class Sides:
    """The (host, slot, version) series of the new version and of the old one."""

    new: tuple[tuple[str, str, str], ...]
    old: tuple[tuple[str, str, str], ...]


def sides(r: Rollout) -> Sides:
    """The current batch's hosts: a weighted host has both sides, a flipped one only the new."""
    new, old = [], []
    for h in r.hosts:
        if h.batch != r.current_batch:
            continue
        if h.state is HostState.WEIGHTED and h.candidate_slot:
            new.append((h.host_id, h.candidate_slot, r.version))
            if h.active_slot:
                old.append((h.host_id, h.active_slot, h.from_version))
        elif h.state in (HostState.VERIFYING, HostState.HEALTHY) and h.active_slot:
            new.append((h.host_id, h.active_slot, r.version))
    return Sides(tuple(new), tuple(old))


Side = tuple[tuple[str, str, str], ...]


def _union(metric: str, service: str, side: Side, extra: str, at_ms: int | None = None) -> str:
    """``metric`` on every (host, slot, version) of ``side`` (``@ at_ms``: as it was then), as one union."""
    q = json.dumps
    at = f" @ {at_ms / 1000:.3f}" if at_ms is not None else ""
    return " or ".join(
        f"{metric}{{service={q(service)},host={q(h)},slot={q(s)},version={q(v)}{extra}}}{at}" for h, s, v in side
    )


def growth(metric: str, service: str, side: Side, since_ms: int, extra: str = "", by: str = "") -> str:
    """How much ``side``'s counters grew since ``since_ms``: now minus then, a series born since counting
    from 0 (``increase`` would drop what it counted before its first sample: a new slot's first errors)."""
    agg = f"sum by ({by}) " if by else "sum "
    now = f"{agg}({_union(metric, service, side, extra)})"
    then = f"{agg}({_union(metric, service, side, extra, since_ms)})"
    return f"{now} - ({then} or {now + ' * 0' if by else 'vector(0)'})"


def requests_expr(service: str, side: Side, since_ms: int, errors: bool = False) -> str:
    return growth(REQUESTS, service, side, since_ms, ',code=~"5.."' if errors else "")


def p99_expr(service: str, side: Side, since_ms: int) -> str:
    return f"histogram_quantile(0.99, {growth(BUCKETS, service, side, since_ms, by='le')})"


def _value(ev: Evaluator, expr: str, now: int) -> float | None:
    """The expression's one value; None for no data (no sample, or NaN)."""
    if not expr:
        return None
    out = ev.instant(parse(expr), now)
    if isinstance(out, Scalar):
        v = out.v
    elif isinstance(out, list) and out and isinstance(out[0], Sample):
        v = out[0].v
    else:
        return None
    return None if math.isnan(v) else float(v)


def checks(r: Rollout, ev: Evaluator, now: int) -> list[Verdict]:
    """The step's canary checks at ``now`` (blocking: reads the store); final once the window has ended."""
    o = r.options
    since = r.bake_started_ms
    final = now >= r.bake_until_ms
    sd = sides(r)
    total = _value(ev, requests_expr(r.service, sd.new, since), now) if sd.new else None
    out = []
    if o.max_error_rate >= 0:
        out.append(_error_rate(r, ev, sd, since, total or 0.0, now, final))
    if o.max_latency_regression >= 0:
        out.append(_latency(r, ev, sd, since, total or 0.0, now, final))
    return out


def _decide(final: bool, verdict: str) -> str:
    return verdict if final else "pending"


def _few(requests: float, side: str, minimum: int) -> str:
    return f"{requests:.0f} requests on the {side} slot, fewer than {minimum}: inconclusive"


def _error_rate(r: Rollout, ev: Evaluator, sd: Sides, since: int, total: float, now: int, final: bool) -> Verdict:
    o = r.options
    expr = requests_expr(r.service, sd.new, since, errors=True) if sd.new else ""
    errors = _value(ev, expr, now) or 0.0
    old_total = _value(ev, requests_expr(r.service, sd.old, since), now) if sd.old else None
    old_errors = _value(ev, requests_expr(r.service, sd.old, since, errors=True), now) if sd.old else None
    old_share = (old_errors or 0.0) / old_total if old_total else 0.0
    v = Verdict(ERROR_RATE, expr, "", 0.0, now, o.max_error_rate, old_share, total)
    if total < o.min_requests:
        v.verdict, v.detail = _decide(final, "inconclusive"), f"error rate: {_few(total, 'new', o.min_requests)}"
        return v
    v.value = errors / total
    v.verdict = _decide(final, "fail" if v.value > o.max_error_rate else "pass")
    v.detail = (
        f"error rate {v.value:.2%} of {total:.0f} requests on the new slot (max {o.max_error_rate:.2%};"
        f" old slot {old_share:.2%})"
    )
    return v


def _latency(r: Rollout, ev: Evaluator, sd: Sides, since: int, total: float, now: int, final: bool) -> Verdict:
    o = r.options
    expr = p99_expr(r.service, sd.new, since) if sd.new else ""
    v = Verdict(LATENCY, expr, "", 0.0, now, o.max_latency_regression, 0.0, total)
    new_p99 = _value(ev, expr, now)
    if not sd.old:  # at 100 %: nothing to compare with on the same hosts in the same window
        v.value = new_p99 or 0.0
        seen = f"p99 {v.value * 1000:.1f} ms on the new slot, " if new_p99 is not None else ""
        v.verdict, v.detail = _decide(final, "skipped"), f"{seen}not compared at 100% (the old slot takes no requests)"
        return v
    old_total = _value(ev, requests_expr(r.service, sd.old, since), now) or 0.0
    if old_total < o.min_requests:
        v.verdict, v.detail = _decide(final, "inconclusive"), f"p99 latency: {_few(old_total, 'old', o.min_requests)}"
        return v
    baseline = _value(ev, p99_expr(r.service, sd.old, since), now)
    if total < o.min_requests or new_p99 is None:
        v.verdict, v.detail = _decide(final, "inconclusive"), f"p99 latency: {_few(total, 'new', o.min_requests)}"
        return v
    v.value = new_p99
    if not baseline:
        v.verdict, v.detail = _decide(final, "inconclusive"), "p99 latency: no p99 of the old version to compare with"
        return v
    v.baseline = baseline
    regression = new_p99 / baseline - 1
    v.verdict = _decide(final, "fail" if regression > o.max_latency_regression else "pass")
    v.detail = (
        f"p99 {new_p99 * 1000:.1f} ms on the new slot vs {baseline * 1000:.1f} ms on the old slot:"
        f" {regression:+.0%} (max +{o.max_latency_regression:.0%})"
    )
    return v
