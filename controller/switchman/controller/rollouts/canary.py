"""Canary checks of a weighted step (ADR 0022): the new slot against the old
slot on the same hosts, over the step's bake window, from the request
metrics the routers count (``switchman_service_requests_total`` and the
``switchman_service_request_duration_seconds`` histogram) as the store holds
them, in PromQL:

* error rate: the new slot's 5xx share of its requests, at most
  ``max_error_rate``;
* latency: the new slot's p99 (``histogram_quantile(0.99, ...)``) against the
  old slot's, at most ``max_latency_regression`` higher. At 100 % the old
  slot takes no requests: its p99 from the batch's previous step stands in.

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


def increase(service: str, metric: str, side: tuple[tuple[str, str, str], ...], window_ms: int, extra: str = "") -> str:
    """``increase`` of ``metric`` over the window on every (host, slot, version) of ``side``, as one union."""
    q = json.dumps
    return " or ".join(
        f"increase({metric}{{service={q(service)},host={q(h)},slot={q(s)},version={q(v)}{extra}}}[{window_ms}ms])"
        for h, s, v in side
    )


def requests_expr(service: str, side: tuple[tuple[str, str, str], ...], window_ms: int, errors: bool = False) -> str:
    extra = ',code=~"5.."' if errors else ""
    return f"sum({increase(service, REQUESTS, side, window_ms, extra)})"


def p99_expr(service: str, side: tuple[tuple[str, str, str], ...], window_ms: int) -> str:
    return f"histogram_quantile(0.99, sum by (le) ({increase(service, BUCKETS, side, window_ms)}))"


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
    window = max(now - r.bake_started_ms, 1000)
    final = now >= r.bake_until_ms
    sd = sides(r)
    total = _value(ev, requests_expr(r.service, sd.new, window), now) if sd.new else None
    out = []
    if o.max_error_rate >= 0:
        out.append(_error_rate(r, ev, sd, window, total or 0.0, now, final))
    if o.max_latency_regression >= 0:
        out.append(_latency(r, ev, sd, window, total or 0.0, now, final))
    return out


def _decide(final: bool, verdict: str) -> str:
    return verdict if final else "pending"


def _few(requests: float, side: str, minimum: int) -> str:
    return f"{requests:.0f} requests on the {side} slot, fewer than {minimum}: inconclusive"


def _error_rate(r: Rollout, ev: Evaluator, sd: Sides, window: int, total: float, now: int, final: bool) -> Verdict:
    o = r.options
    expr = requests_expr(r.service, sd.new, window, errors=True) if sd.new else ""
    errors = _value(ev, expr, now) or 0.0
    old_total = _value(ev, requests_expr(r.service, sd.old, window), now) if sd.old else None
    old_errors = _value(ev, requests_expr(r.service, sd.old, window, errors=True), now) if sd.old else None
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


def _latency(r: Rollout, ev: Evaluator, sd: Sides, window: int, total: float, now: int, final: bool) -> Verdict:
    o = r.options
    expr = p99_expr(r.service, sd.new, window) if sd.new else ""
    v = Verdict(LATENCY, expr, "", 0.0, now, o.max_latency_regression, 0.0, total)
    new_p99 = _value(ev, expr, now)
    baseline, where = None, "the old slot"
    if sd.old:
        old_total = _value(ev, requests_expr(r.service, sd.old, window), now) or 0.0
        if old_total < o.min_requests:
            v.verdict, v.detail = (
                _decide(final, "inconclusive"),
                f"p99 latency: {_few(old_total, 'old', o.min_requests)}",
            )
            return v
        baseline = _value(ev, p99_expr(r.service, sd.old, window), now)
    else:  # at 100 %: the old slot's p99 of the batch's last step that measured one
        earlier = [
            x
            for s in r.step_results
            if s.batch == r.current_batch
            for x in s.analysis
            if x.name == LATENCY and x.baseline > 0
        ]
        if earlier:
            baseline, where = earlier[-1].baseline, "the old slot at the previous step"
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
        f"p99 {new_p99 * 1000:.1f} ms on the new slot vs {baseline * 1000:.1f} ms on {where}:"
        f" {regression:+.0%} (max +{o.max_latency_regression:.0%})"
    )
    return v
