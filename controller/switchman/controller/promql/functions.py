"""PromQL functions over range vectors and instant vectors, with Prometheus
2.x semantics (extrapolated rate/increase/delta, counter resets, the
quantile method of ``quantile``, classic-bucket ``histogram_quantile``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from switchman.controller.promql.errors import PromQLError
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
    # Prometheus 2.42's order: the zero point first (never extrapolate a
    # counter below zero), then whether the start is near enough to extrapolate to
    if counter and result > 0 and vs[0] >= 0:
        to_start = min(to_start, sampled * (vs[0] / result))
    if to_start >= threshold:
        to_start = avg_step / 2
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


def nan_first(v: float) -> tuple[int, float]:
    """Sort key: NaN below every number, as Prometheus' value heaps order."""
    return (0, 0.0) if math.isnan(v) else (1, v)


def quantile(q: float, values: Sequence[float]) -> float:
    """Prometheus' quantile: linear interpolation between closest ranks
    (NaN samples sort lowest)."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    s = sorted(values, key=nan_first)
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
    isinf = math.isinf
    for v in vs:
        count += 1
        if isinf(mean) and _stays_infinite(mean, v):
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


def min_over_time(vs: Sequence[float]) -> float:
    """The smallest value; a NaN is replaced by any later value, as Prometheus does."""
    low = vs[0]
    for v in vs:
        if v < low or math.isnan(low):
            low = v
    return low


def max_over_time(vs: Sequence[float]) -> float:
    """The largest value; a NaN is replaced by any later value, as Prometheus does."""
    high = vs[0]
    for v in vs:
        if v > high or math.isnan(high):
            high = v
    return high


def check_smoothing(sf: float, tf: float) -> None:
    """holt_winters' factors must lie in (0, 1).

    :raises PromQLError: one does not."""
    if not 0 < sf < 1:
        raise PromQLError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:f}")
    if not 0 < tf < 1:
        raise PromQLError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:f}")


def holt_winters(vs: Sequence[float], sf: float, tf: float) -> float | None:
    """Double exponential smoothing, as Prometheus' holt_winters."""
    if len(vs) < 2:
        return None
    s0, s1, b = 0.0, vs[0], vs[1] - vs[0]
    for i in range(1, len(vs)):
        x = sf * vs[i]
        if i > 1:
            b = tf * (s1 - s0) + (1 - tf) * b
        y = (1 - sf) * (s1 + b)
        s0, s1 = s1, x + y
    return s1


OVER_TIME: dict[str, Callable[[Sequence[float]], float]] = {
    "avg_over_time": kahan_mean,
    "min_over_time": min_over_time,
    "max_over_time": max_over_time,
    "sum_over_time": kahan_sum,
    "count_over_time": lambda vs: float(len(vs)),
    "last_over_time": lambda vs: vs[-1],
    "stddev_over_time": lambda vs: math.sqrt(kahan_variance(vs)),
    "stdvar_over_time": kahan_variance,
    "present_over_time": lambda vs: 1.0,
}


def go_div(a: float, b: float) -> float:
    """IEEE division as Go does it: x/0 is ±Inf or NaN, never an exception."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def go_floor(v: float) -> float:
    return float(math.floor(v)) if math.isfinite(v) else v


def go_ceil(v: float) -> float:
    return float(math.ceil(v)) if math.isfinite(v) else v


def go_min(a: float, b: float) -> float:
    """Go's math.Min: -Inf if either is -Inf, else NaN if either is NaN."""
    if -math.inf in (a, b):
        return -math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return min(a, b)


def go_max(a: float, b: float) -> float:
    """Go's math.Max: +Inf if either is +Inf, else NaN if either is NaN."""
    if math.inf in (a, b):
        return math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)


def _round_half_up(v: float, to: float) -> float:
    inverse = go_div(1.0, to)
    return go_div(go_floor(v * inverse + 0.5), inverse)


def _ln(v: float) -> float:
    return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)


_INV_LN10 = 0.43429448190325182765112891891660508229439700580366656611445378316586464920887  # 1/ln(10)
_INV_LN2 = 1.44269504088896340735992468100189213742664595415298593413544940693110921918118  # 1/ln(2)


def _log10(v: float) -> float:
    """Go's math.Log10: ln(v) times 1/ln(10)."""
    return _ln(v) * _INV_LN10


def _log2(v: float) -> float:
    """Go's math.Log2: exact for powers of two, else from the mantissa."""
    if not math.isfinite(v) or v <= 0:
        return _ln(v) * _INV_LN2
    frac, exp = math.frexp(v)
    if frac == 0.5:
        return float(exp - 1)
    return _ln(frac) * _INV_LN2 + exp


def _sqrt(v: float) -> float:
    return math.sqrt(v) if v >= 0 else math.nan


def _guarded(f: Callable[[float], float], overflow: Callable[[float], float] | None = None) -> Callable[[float], float]:
    """``f`` with Go's answers where Python raises: NaN outside the domain,
    ±Inf on overflow."""

    def call(v: float) -> float:
        try:
            return f(v)
        except ValueError:
            return math.nan
        except OverflowError:
            return overflow(v) if overflow else math.copysign(math.inf, v)

    return call


def _atanh(v: float) -> float:
    if v in (1.0, -1.0):
        return math.copysign(math.inf, v)
    return math.atanh(v) if -1 < v < 1 else math.nan


ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": go_ceil,
    "floor": go_floor,
    "sin": _guarded(math.sin),
    "cos": _guarded(math.cos),
    "tan": _guarded(math.tan),
    "asin": _guarded(math.asin),
    "acos": _guarded(math.acos),
    "atan": math.atan,
    "sinh": _guarded(math.sinh),
    "cosh": _guarded(math.cosh, lambda v: math.inf),
    "tanh": math.tanh,
    "asinh": math.asinh,
    "acosh": _guarded(math.acosh),
    "atanh": _atanh,
    "deg": lambda v: v * 180 / math.pi,
    "rad": lambda v: v * math.pi / 180,
    "exp": lambda v: math.exp(v) if v < 710 or math.isnan(v) else math.inf,
    "sqrt": _sqrt,
    "ln": _ln,
    "log2": _log2,
    "log10": _log10,
    "sgn": lambda v: math.copysign(1.0, v) if v != 0 and not math.isnan(v) else v,
}


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' bucketQuantile over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets, key=lambda b: b[0])
    if not buckets or buckets[-1][0] != math.inf:
        return math.nan
    merged: list[tuple[float, float]] = []  # le="0.2" and le="2e-1" are one bucket: counts add
    for ub, c in buckets:
        if merged and merged[-1][0] == ub:
            merged[-1] = (ub, merged[-1][1] + c)
        else:
            merged.append((ub, c))
    buckets = merged
    if len(buckets) < 2:
        return math.nan
    # make counts monotonic, as Prometheus does for slightly broken histograms
    fixed: list[tuple[float, float]] = []
    biggest = buckets[0][1]
    for ub, c in buckets:
        biggest = max(biggest, c)
        fixed.append((ub, biggest if c < biggest else c))
    buckets = fixed
    observations = buckets[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = _search(len(buckets) - 1, lambda i: buckets[i][1] >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, count = (0.0, buckets[b][1]) if b == 0 else (buckets[b - 1][0], buckets[b][1] - buckets[b - 1][1])
    if b > 0:
        rank -= buckets[b - 1][1]
    end = buckets[b][0]
    return start + (end - start) * go_div(rank, count)


def _search(n: int, holds: Callable[[int], bool]) -> int:
    """Go's sort.Search: the smallest i in [0, n) where ``holds`` (n if none), by bisection."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def drop_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def date_part(part: str, seconds: float) -> float:
    """``year()``... ``minute()`` of a Unix time in UTC, as Go's time package
    computes them from ``int64(seconds)``; NaN for a non-finite time."""
    if not math.isfinite(seconds) or abs(seconds) >= 2**63:
        return math.nan
    secs = int(seconds)  # Go's int64(): towards zero
    days, rem = divmod(secs, 86_400)
    if part == "hour":
        return float(rem // 3600)
    if part == "minute":
        return float(rem % 3600 // 60)
    if part == "day_of_week":
        return float((days + 4) % 7)  # 1970-01-01 was a Thursday
    y, m, d = _civil_from_days(days)
    if part == "year":
        return float(y)
    if part == "month":
        return float(m)
    if part == "day_of_month":
        return float(d)
    if part == "day_of_year":
        return float(days - _days_from_civil(y, 1, 1) + 1)
    if part == "days_in_month":
        return float(29 if m == 2 and _is_leap(y) else (28 if m == 2 else (30 if m in (4, 6, 9, 11) else 31)))
    raise ValueError(f"unknown date function {part!r}")


DATE_FUNCTIONS = frozenset(
    {"year", "month", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute"}
)


def format_value(v: float) -> str:
    """A value as Go's strconv.FormatFloat(v, 'f', -1, 64) writes it (count_values' label)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return format(Decimal(repr(v)).normalize(), "f")
