"""PromQL functions over range vectors and instant vectors, with Prometheus
2.x semantics (extrapolated rate/increase/delta, counter resets, the
quantile method of ``quantile``, classic-bucket ``histogram_quantile``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from switchman.controller.promql.values import Labels


def extrapolated(
    ts: Sequence[int], vs: Sequence[float], start: int, end: int, range_ms: int, counter: bool, rate: bool
) -> float | None:
    """Prometheus' extrapolatedRate (rate, increase, delta)."""
    if len(ts) < 2:
        return None
    result = vs[-1] - vs[0]
    if counter:
        last = 0.0
        for v in vs:
            if v < last:
                result += last
            last = v
    to_start = (ts[0] - start) / 1000
    to_end = (end - ts[-1]) / 1000
    sampled = (ts[-1] - ts[0]) / 1000
    avg_step = sampled / (len(ts) - 1)
    threshold = avg_step * 1.1
    if to_start >= threshold:
        to_start = avg_step / 2
    if counter and result > 0 and vs[0] >= 0:
        to_start = min(to_start, sampled * (vs[0] / result))  # never extrapolate below zero
    if to_end >= threshold:
        to_end = avg_step / 2
    factor = (sampled + to_start + to_end) / sampled
    if rate:
        factor /= range_ms / 1000
    return result * factor


def instant_delta(ts: Sequence[int], vs: Sequence[float], rate: bool) -> float | None:
    """irate / idelta: from the last two samples."""
    if len(ts) < 2:
        return None
    last, prev = vs[-1], vs[-2]
    result = last if rate and last < prev else last - prev  # a counter reset
    if rate:
        dt = (ts[-1] - ts[-2]) / 1000
        if dt == 0:
            return None
        result /= dt
    return result


def linear_regression(ts: Sequence[int], vs: Sequence[float], intercept_at: int) -> tuple[float, float]:
    """Slope and intercept (at ``intercept_at``), as Prometheus computes them."""
    n = len(ts)
    sum_x = sum_y = sum_xy = sum_x2 = 0.0
    const_y = all(v == vs[0] for v in vs)
    for t, v in zip(ts, vs, strict=True):
        x = (t - intercept_at) / 1000
        sum_x += x
        sum_y += v
        sum_xy += x * v
        sum_x2 += x * x
    if const_y:
        return 0.0, vs[0]
    cov = sum_xy - sum_x * sum_y / n
    var = sum_x2 - sum_x * sum_x / n
    slope = cov / var
    return slope, sum_y / n - slope * sum_x / n


def quantile(q: float, values: Sequence[float]) -> float:
    """Prometheus' quantile: linear interpolation between closest ranks."""
    if not values:
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    s = sorted(values)
    rank = q * (len(s) - 1)
    lo = max(0, math.floor(rank))
    hi = min(len(s) - 1, lo + 1)
    weight = rank - math.floor(rank)
    return s[lo] * (1 - weight) + s[hi] * weight


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """Prometheus' kahanSumInc (Neumaier's variant)."""
    t = total + inc
    if abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def kahan_sum(vs: Sequence[float]) -> float:
    """kahan_inc inlined: this loop runs for every sample of every rule."""
    total = c = 0.0
    for v in vs:
        t = total + v
        if abs(total) >= abs(v):
            c += (total - t) + v
        else:
            c += (v - t) + total
        total = t
    return total if math.isinf(total) else total + c


def _stays_infinite(mean: float, v: float) -> bool:
    """A running mean that reached ±Inf keeps it unless ``v`` is NaN or the opposite infinity."""
    if not math.isinf(mean):
        return False
    return (math.isinf(v) and (mean > 0) == (v > 0)) or (not math.isinf(v) and not math.isnan(v))


def kahan_mean(vs: Sequence[float]) -> float:
    """avg_over_time as Prometheus computes it (kahan_inc inlined, see kahan_sum)."""
    mean = c = count = 0.0
    isinf = math.isinf
    for v in vs:
        count += 1
        if isinf(mean) and _stays_infinite(mean, v):
            continue
        inc = v / count - mean / count
        t = mean + inc
        if abs(mean) >= abs(inc):
            c += (mean - t) + inc
        else:
            c += (inc - t) + mean
        mean = t
    return mean if isinf(mean) else mean + c


def kahan_variance(vs: Sequence[float]) -> float:
    """stdvar_over_time as Prometheus computes it."""
    count = mean = c_mean = aux = c_aux = 0.0
    for v in vs:
        count += 1
        delta = v - (mean + c_mean)
        mean, c_mean = kahan_inc(delta / count, mean, c_mean)
        aux, c_aux = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux)
    return (aux + c_aux) / count


def naive_sum(vs: Sequence[float]) -> float:
    """Left to right, as Prometheus adds (results compare bit for bit)."""
    total = 0.0
    for v in vs:
        total += v
    return total


def incremental_mean(vs: Sequence[float]) -> float:
    """Prometheus 2.x's running mean (avoids overflow; rounds as it does)."""
    mean, count = 0.0, 0.0
    for v in vs:
        count += 1
        if _stays_infinite(mean, v):
            continue
        mean += v / count - mean / count
    return mean


def _variance(vs: Sequence[float]) -> float:
    """Welford's method, as Prometheus' stdvar."""
    count = mean = m2 = 0.0
    for v in vs:
        count += 1
        delta = v - mean
        mean += delta / count
        m2 += delta * (v - mean)
    return m2 / count


OVER_TIME: dict[str, Callable[[Sequence[float]], float]] = {
    "avg_over_time": kahan_mean,
    "min_over_time": min,
    "max_over_time": max,
    "sum_over_time": kahan_sum,
    "count_over_time": lambda vs: float(len(vs)),
    "last_over_time": lambda vs: vs[-1],
    "stddev_over_time": lambda vs: math.sqrt(kahan_variance(vs)),
    "stdvar_over_time": kahan_variance,
    "present_over_time": lambda vs: 1.0,
}


def _round_half_up(v: float, to: float) -> float:
    return math.floor(v * (1 / to) + 0.5) / (1 / to)


def _ln(v: float) -> float:
    return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)


def _log(base: float) -> Callable[[float], float]:
    return lambda v: _ln(v) / math.log(base)


def _sqrt(v: float) -> float:
    return math.sqrt(v) if v >= 0 else math.nan


ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": math.ceil,
    "floor": math.floor,
    "exp": lambda v: math.exp(v) if v < 710 else math.inf,
    "sqrt": _sqrt,
    "ln": _ln,
    "log2": _log(2),
    "log10": _log(10),
    "sgn": lambda v: math.copysign(1.0, v) if v != 0 and not math.isnan(v) else v,
}


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' bucketQuantile over (upper bound, cumulative count) pairs."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if len(buckets) < 2 or buckets[-1][0] != math.inf:
        return math.nan
    # make counts monotonic, as Prometheus does for slightly broken histograms
    fixed: list[tuple[float, float]] = []
    biggest = -math.inf
    for ub, c in buckets:
        biggest = max(biggest, c)
        fixed.append((ub, biggest))
    buckets = fixed
    observations = buckets[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next(i for i, (_, c) in enumerate(buckets) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, count = (0.0, buckets[b][1]) if b == 0 else (buckets[b - 1][0], buckets[b][1] - buckets[b - 1][1])
    if b > 0:
        rank -= buckets[b - 1][1]
    end = buckets[b][0]
    return start + (end - start) * (rank / count)


def drop_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}
