"""Range functions and vector selectors over many series and many evaluation
times at once (ADR 0020).

A :class:`Block` holds a read's series in flat numpy arrays; the samples of
every (series, window) pair are found by one ``searchsorted``, and the
functions run elementwise over all pairs. The arithmetic is the scalar
code's, operation for operation (IEEE +, -, *, / and sqrt round the same in
numpy as in Python), so the results are bit for bit those of
:mod:`switchman.controller.promql.functions`; sequential sums (Kahan) advance
all windows in lockstep, one sample a step. What cannot be vectorised
exactly (a counter reset's corrections, deriv, predict_linear, holt_winters)
runs the scalar function on the window's samples."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from switchman.controller.promql import functions as fn
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.values import Labels, Series
from switchman.proto.staleness import STALE_BITS

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# functions computed here, over a range selector's samples
VECTORISED = frozenset(
    {
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "changes",
        "resets",
        "deriv",
        "predict_linear",
        "holt_winters",
        "quantile_over_time",
        *fn.OVER_TIME,
    }
)
_SORT_CELLS = 4_000_000
_times = operator.attrgetter("ts")
_values = operator.attrgetter("vs")  # quantile_over_time sorts this many padded cells at a time


@dataclass
class Block:
    """Series in flat arrays: row ``i`` has labels ``labels[i]`` and the
    samples ``ts[first[i]:end[i]]``, ``vs[first[i]:end[i]]`` in time order
    (``stale[i]``: one of them is a staleness marker)."""

    labels: list[Labels]
    ts: Ints
    vs: Floats
    first: Ints
    end: Ints
    stale_rows: Bools
    _series: list[Series] | None = field(default=None, repr=False)
    _keys: Ints | None = field(default=None, repr=False)
    _span: tuple[int, int] = (0, 1)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, series: Sequence[Series]) -> Block:
        sizes = np.fromiter(map(len, map(_times, series)), dtype=np.int64, count=len(series))
        end = np.cumsum(sizes, dtype=np.int64)
        total = int(end[-1]) if len(series) else 0
        ts = np.fromiter(itertools.chain.from_iterable(map(_times, series)), dtype=np.int64, count=total)
        vs = np.fromiter(itertools.chain.from_iterable(map(_values, series)), dtype=np.float64, count=total)
        stale = np.fromiter((s.stale for s in series), dtype=np.bool_, count=len(series))
        return cls([s.labels for s in series], ts, vs, end - sizes, end, stale, list(series))

    @property
    def series(self) -> list[Series]:
        """The rows as series (made when first asked for)."""
        if self._series is None:
            ts, vs = self.ts.tolist(), self.vs.tolist()
            self._series = [
                Series(labels, ts[a:b], vs[a:b], stale=bool(st))
                for labels, a, b, st in zip(
                    self.labels, self.first.tolist(), self.end.tolist(), self.stale_rows.tolist(), strict=True
                )
            ]
        return self._series

    @property
    def stale(self) -> bool:
        """Some sample is a staleness marker."""
        return bool(self.stale_rows.any())

    def __len__(self) -> int:
        return len(self.labels)

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """A value derived from the block, computed once (labels, orders, prefix counts)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def ranged(self) -> Block:
        """The block a range vector sees: staleness markers are not samples."""

        def make() -> Block:
            if not self.stale:
                return self
            keep = self.vs.view(np.uint64) != np.uint64(STALE_BITS)
            before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
            none = np.zeros(len(self), dtype=np.bool_)
            return Block(self.labels, self.ts[keep], self.vs[keep], before[self.first], before[self.end], none)

        block: Block = self.cached("ranged", make)
        return block

    def _search_keys(self) -> tuple[Ints, int, int]:
        if self._keys is None:
            base = int(self.ts.min()) if len(self.ts) else 0
            width = (int(self.ts.max()) - base + 3) if len(self.ts) else 3
            if width * (len(self) + 1) >= 2**62:
                raise OverflowError("samples too far apart to search as one array")
            rows = np.repeat(np.arange(len(self), dtype=np.int64), self.end - self.first)
            self._keys = rows * width + (self.ts - base + 1)
            self._span = (base, width)
        return self._keys, self._span[0], self._span[1]

    def search(self, times: Ints, side: str) -> Ints:
        """Per row (axis 1) and time (axis 0): the flat index of the first sample
        at or after ``times`` (``side`` "left") or after it ("right")."""
        keys, base, width = self._search_keys()
        shifted = np.clip(times - base + 1, 0, width - 1)
        query = shifted[:, None] + (np.arange(len(self), dtype=np.int64) * width)[None, :]
        out: Ints = np.searchsorted(keys, query, side=side)  # type: ignore[call-overload]
        return out

    def unnamed(self) -> list[Labels]:
        """Each row's labels without ``__name__`` (built once per block)."""
        out: list[Labels] = self.cached("unnamed", lambda: [fn.drop_name(labels) for labels in self.labels])
        return out

    def sorted_labels(self) -> list[Labels]:
        """The rows' labels in :meth:`label_order`."""
        out: list[Labels] = self.cached("sorted_labels", lambda: [self.labels[i] for i in self.label_order()])
        return out

    def label_order(self) -> list[int]:
        """Rows in Prometheus' series order (by label pairs)."""

        def make() -> list[int]:
            keys = [tuple(sorted(labels.items())) for labels in self.labels]
            return sorted(range(len(keys)), key=keys.__getitem__)

        out: list[int] = self.cached("order", make)
        return out

    def _pair_counts(self, kind: str, flag: Callable[[Floats, Floats], Bools]) -> Ints:
        """Prefix counts of a property of consecutive samples of a row: entry
        ``k + 1`` counts the pairs ``(k' - 1, k')`` with ``k' <= k``."""

        def make() -> Ints:
            flags = np.zeros(len(self.vs), dtype=np.int64)
            if len(self.vs) > 1:
                flags[1:] = flag(self.vs[:-1], self.vs[1:])
                flags[self.first[self.first < len(self.vs)]] = 0  # a row's first sample pairs with nothing
            return np.concatenate(([0], np.cumsum(flags)))

        out: Ints = self.cached(kind, make)
        return out

    def resets(self) -> Ints:
        return self._pair_counts("resets", lambda a, b: b < a)

    def changes(self) -> Ints:
        return self._pair_counts("changes", lambda a, b: (a != b) & ~(np.isnan(a) & np.isnan(b)))


def _pairs_in(prefix: Ints, lo: Ints, hi: Ints) -> Ints:
    """Flagged pairs within each window [lo, hi)."""
    out: Ints = prefix[hi] - prefix[np.minimum(lo + 1, hi)]  # positions lo+1 .. hi-1 (0 when fewer than 2)
    return out


@dataclass
class Windows:
    """Each (time, row) window's sample indices ``[lo, hi)`` and count."""

    block: Block
    lo: Ints
    hi: Ints

    @property
    def count(self) -> Ints:
        out: Ints = self.hi - self.lo
        return out

    def at(self, idx: Ints) -> Floats:
        """The values at flat indices (clipped where a window is empty)."""
        safe = np.clip(idx, 0, max(len(self.block.vs) - 1, 0))
        out: Floats = self.block.vs[safe] if len(self.block.vs) else np.zeros(idx.shape)
        return out

    def times(self, idx: Ints) -> Ints:
        safe = np.clip(idx, 0, max(len(self.block.ts) - 1, 0))
        out: Ints = self.block.ts[safe] if len(self.block.ts) else np.zeros(idx.shape, dtype=np.int64)
        return out

    def lists(self, i: int, j: int) -> tuple[list[int], list[float]]:
        a, b = int(self.lo[i, j]), int(self.hi[i, j])
        return self.block.ts[a:b].tolist(), self.block.vs[a:b].tolist()


def windows(block: Block, start: Ints, end: Ints) -> Windows:
    """Samples in ``[start, end]`` per time (axis 0) and row (axis 1)."""
    return Windows(block, block.search(start, "left"), block.search(end, "right"))


def latest(block: Block, at: Ints, lookback_ms: int) -> tuple[Floats, Bools, Ints]:
    """A vector selector at each time of ``at``: per (time, row) the newest
    sample in ``[at - lookback, at]`` unless it is a staleness marker; values,
    presence and the samples' indices."""
    idx = block.search(at, "right") - 1
    w = Windows(block, idx, idx)
    present = (idx >= block.first[None, :]) & (w.times(idx) >= (at - lookback_ms)[:, None])
    values = w.at(idx)
    if len(block.vs) and block.stale:
        present &= values.view(np.uint64) != np.uint64(STALE_BITS)
    return values, present, idx


def range_function(
    f: str, block: Block, start: Ints, end: Ints, range_ms: int, params: Sequence[float], evaluated_at: Ints
) -> tuple[Floats, Bools]:
    """``f`` over the samples in ``[start, end]`` of each row, for each window
    (axis 0: the times, axis 1: the rows); values and presence.

    :raises PromQLError: holt_winters' factors are out of range.
    :raises ValueError: stddev_over_time of a negative variance (as math.sqrt)."""
    w = windows(block.ranged(), start, end)
    n = w.count
    with np.errstate(all="ignore"):
        if f in ("rate", "increase", "delta"):
            return _extrapolated(w, start, end, range_ms, f != "delta", f == "rate"), n >= 2
        if f in ("irate", "idelta"):
            return _instant_delta(w, f == "irate")
        if f in ("changes", "resets"):
            prefix = w.block.changes() if f == "changes" else w.block.resets()
            return _pairs_in(prefix, w.lo, w.hi).astype(np.float64), n >= 1
        if f == "count_over_time":
            return n.astype(np.float64), n >= 1
        if f == "present_over_time":
            return np.ones(n.shape), n >= 1
        if f == "last_over_time":
            return w.at(w.hi - 1), n >= 1
        if f in _LOCKSTEP:
            return _lockstep(w, _LOCKSTEP[f]), n >= 1
        if f == "stddev_over_time":
            var = _lockstep(w, _LOCKSTEP["stdvar_over_time"])
            if np.any((var < 0) & (n >= 1)):
                raise ValueError("math domain error")
            return np.sqrt(var), n >= 1
        if f == "quantile_over_time":
            return _quantile(w, params[0]), n >= 1
    return _scalar_fallback(f, w, params, evaluated_at)


def _extrapolated(w: Windows, start: Ints, end: Ints, range_ms: int, counter: bool, rate: bool) -> Floats:
    """fn.extrapolated over every window; windows with a counter reset run it as is."""
    n = w.count
    i0, i1 = w.lo, w.hi - 1
    v0, v1 = w.at(i0), w.at(i1)
    t0, t1 = w.times(i0), w.times(i1)
    result = v1 - v0
    if counter:
        reset = (_pairs_in(w.block.resets(), w.lo, w.hi) > 0) & (n >= 2)
        for j, i in zip(*np.nonzero(reset), strict=True):
            vs = w.lists(int(j), int(i))[1]
            last, total = 0.0, vs[-1] - vs[0]
            for v in vs:
                if v < last:
                    total += last
                last = v
            result[j, i] = total
    to_start = (t0 - start[:, None]) / 1000
    to_end = (end[:, None] - t1) / 1000
    sampled = (t1 - t0) / 1000
    avg_step = sampled / (n - 1)
    threshold = avg_step * 1.1
    if counter:  # as functions.extrapolated: the zero point first, then the threshold
        to_zero = sampled * (v0 / result)
        to_start = np.where((result > 0) & (v0 >= 0) & (to_zero < to_start), to_zero, to_start)
    to_start = np.where(to_start >= threshold, avg_step / 2, to_start)
    to_end = np.where(to_end >= threshold, avg_step / 2, to_end)
    factor = (sampled + to_start + to_end) / sampled
    if rate:
        factor = factor / (range_ms / 1000)
    out: Floats = result * factor
    return out


def _instant_delta(w: Windows, rate: bool) -> tuple[Floats, Bools]:
    last, prev = w.at(w.hi - 1), w.at(w.hi - 2)
    result = np.where(last < prev, last, last - prev) if rate else last - prev
    present = w.count >= 2
    if rate:
        dt = (w.times(w.hi - 1) - w.times(w.hi - 2)) / 1000
        present &= dt != 0
        result = result / dt
    return result, present


Step = Callable[[list[Floats], Floats, float], None]  # (state, value, count) -> updates state in place
Finish = Callable[[list[Floats], Floats], Floats]  # (state, counts) -> result


def _lockstep(w: Windows, step: tuple[int, Step, Finish]) -> Floats:
    """A sequential reduction over each window's samples, all windows one
    sample at a time (longest windows first, so each step only touches the
    windows still going)."""
    size, advance, finish = step
    n = w.count.ravel()
    order = np.argsort(-n, kind="stable")
    counts = n[order]
    lo = w.lo.ravel()[order]
    state = [np.zeros(len(order)) for _ in range(size)]
    longest = int(counts[0]) if len(counts) else 0
    active = len(order)
    for k in range(longest):
        while active and counts[active - 1] <= k:
            active -= 1
        view = [s[:active] for s in state]
        advance(view, w.block.vs[lo[:active] + k], float(k + 1))
        for s, v in zip(state, view, strict=True):
            s[:active] = v
    out = np.empty(len(order))
    out[order] = finish(state, counts.astype(np.float64))
    return out.reshape(w.lo.shape)


def _kahan_sum(state: list[Floats], v: Floats, _: float) -> None:
    total, c = state
    t = total + v
    c += np.where(np.abs(total) >= np.abs(v), (total - t) + v, (v - t) + total)
    state[0], state[1] = t, c


def _kahan_mean(state: list[Floats], v: Floats, count: float) -> None:
    mean, c = state
    inf = np.isinf(mean)
    stays = inf & ((np.isinf(v) & ((mean > 0) == (v > 0))) | (~np.isinf(v) & ~np.isnan(v)))
    inc = v / count - mean / count
    t = mean + inc
    comp = np.where(np.abs(mean) >= np.abs(inc), (mean - t) + inc, (inc - t) + mean)
    state[0] = np.where(stays, mean, t)
    state[1] = np.where(stays, c, c + comp)


def _kahan_result(state: list[Floats], _: Floats) -> Floats:
    total, c = state
    out: Floats = np.where(np.isinf(total), total, total + c)
    return out


def _first_or(better: Callable[[Floats, Floats], Bools]) -> Step:
    def advance(state: list[Floats], v: Floats, count: float) -> None:
        if count == 1:
            state[0] = v.copy()
            return
        low = state[0]
        state[0] = np.where(better(v, low) | np.isnan(low), v, low)

    return advance


def _kahan_inc(inc: Floats, total: Floats, c: Floats) -> tuple[Floats, Floats]:
    t = total + inc
    c = c + np.where(np.abs(total) >= np.abs(inc), (total - t) + inc, (inc - t) + total)
    return t, c


def _variance(state: list[Floats], v: Floats, count: float) -> None:
    mean, c_mean, aux, c_aux = state
    delta = v - (mean + c_mean)
    mean, c_mean = _kahan_inc(delta / count, mean, c_mean)
    aux, c_aux = _kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux)
    state[:] = [mean, c_mean, aux, c_aux]


def _variance_result(state: list[Floats], count: Floats) -> Floats:
    out: Floats = (state[2] + state[3]) / count
    return out


_LOCKSTEP: dict[str, tuple[int, Step, Finish]] = {
    "sum_over_time": (2, _kahan_sum, _kahan_result),
    "avg_over_time": (2, _kahan_mean, _kahan_result),
    "min_over_time": (1, _first_or(lambda v, low: v < low), lambda s, _: s[0]),
    "max_over_time": (1, _first_or(lambda v, high: v > high), lambda s, _: s[0]),
    "stdvar_over_time": (4, _variance, _variance_result),
}


def _quantile(w: Windows, q: float) -> Floats:
    """fn.quantile per window: the windows' samples padded into rows and sorted
    (NaN sorts first there, last in numpy: placed by their count)."""
    n = w.count.ravel()
    out = np.full(len(n), math.nan)
    if math.isnan(q):
        return out.reshape(w.lo.shape)
    if q < 0 or q > 1:
        out[:] = -math.inf if q < 0 else math.inf
        return out.reshape(w.lo.shape)
    lo = w.lo.ravel()
    width = int(n.max()) if len(n) else 0
    if width == 0:
        return out.reshape(w.lo.shape)
    per = max(1, _SORT_CELLS // width)
    cols = np.arange(width)
    for a in range(0, len(n), per):
        nn, ll = n[a : a + per], lo[a : a + per]
        inside = cols[None, :] < nn[:, None]
        cells = np.where(inside, w.block.vs[np.minimum(ll[:, None] + cols[None, :], len(w.block.vs) - 1)], math.inf)
        nans = np.isnan(cells).sum(axis=1)
        cells.sort(axis=1)
        rank = q * (nn - 1).astype(np.float64)
        floor = np.floor(rank)
        lower = np.maximum(0, floor).astype(np.int64)
        upper = np.minimum(nn - 1, lower + 1)
        weight = rank - floor

        def value(pos: Ints, cells: Floats = cells, nans: Ints = nans) -> Floats:
            got = cells[np.arange(len(pos)), np.clip(pos - nans, 0, width - 1)]
            return np.where(pos < nans, math.nan, got)

        out[a : a + per] = np.where(nn > 0, value(lower) * (1 - weight) + value(upper) * weight, math.nan)
    return out.reshape(w.lo.shape)


def _scalar_fallback(f: str, w: Windows, params: Sequence[float], evaluated_at: Ints) -> tuple[Floats, Bools]:
    """deriv, predict_linear, holt_winters: the scalar function per window."""
    if f == "holt_winters":
        sf, tf = params
        fn.check_smoothing(sf, tf)
    values = np.zeros(w.lo.shape)
    present = np.zeros(w.lo.shape, dtype=np.bool_)
    for j, i in zip(*np.nonzero(w.count >= 2), strict=True):
        ts, vs = w.lists(int(j), int(i))
        value: float | None
        if f == "deriv":
            value = fn.linear_regression(ts, vs, ts[0])[0]
        elif f == "predict_linear":
            slope, intercept = fn.linear_regression(ts, vs, int(evaluated_at[j]))
            value = intercept + slope * params[0]
        elif f == "holt_winters":
            value = fn.holt_winters(vs, params[0], params[1])
        else:
            raise PromQLError(f"function {f!r} is not supported")
        if value is not None:
            values[j, i], present[j, i] = value, True
    return values, present
