"""Evaluates the AST at an instant or over a range, with Prometheus 2.x
semantics: a vector selector takes, per series, the newest sample in
``[t - lookback, t]`` (lookback 5m); range selectors take ``[t - range, t]``."""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from switchman.controller.promql import ast
from switchman.controller.promql import functions as fn
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.parser import COMPARISONS, SET_OPS, value_type
from switchman.controller.promql.regex import compile_anchored
from switchman.controller.promql.source import SampleSource
from switchman.controller.promql.steps import Columns, Steps, samples
from switchman.controller.promql.values import (
    Labels,
    Matrix,
    Sample,
    Scalar,
    Series,
    String,
    Value,
    Vector,
)
from switchman.controller.promql.windows import VECTORISED, Block, Bools, Floats, Ints, latest, range_function

LOOKBACK_MS = 5 * 60_000
MAX_STEPS = 11_000


class PrefetchSource:
    """Reads each selector's samples once for a whole range query, then
    answers every step from memory."""

    def __init__(self, inner: SampleSource, lo: int, hi: int) -> None:
        self._inner, self._lo, self._hi = inner, lo, hi
        self._blocks: dict[tuple[ast.Matcher, ...], Block] = {}

    def select_block(self, matchers: Sequence[ast.Matcher], start_ms: int, end_ms: int) -> Block:
        """Every sample in ``[start, end]`` of the matching series, maybe more (see :class:`Block`)."""
        key = tuple(matchers)
        if key not in self._blocks:
            self._blocks[key] = read_block(self._inner, matchers, min(self._lo, start_ms), max(self._hi, end_ms))
        return self._blocks[key]

    def select(self, matchers: Sequence[ast.Matcher], start_ms: int, end_ms: int) -> list[Series]:
        out = []
        for s in self.select_block(matchers, start_ms, end_ms).series:
            i, j = bisect.bisect_left(s.ts, start_ms), bisect.bisect_right(s.ts, end_ms)
            if i < j:
                out.append(Series(s.labels, s.ts[i:j], s.vs[i:j], stale=s.stale))
        return out


def read_block(source: SampleSource, matchers: Sequence[ast.Matcher], start_ms: int, end_ms: int) -> Block:
    """``source.select`` as a block (read straight into arrays where the source can)."""
    read = getattr(source, "select_block", None)
    if read is not None:
        block: Block = read(matchers, start_ms, end_ms)
        return block
    return Block.of(source.select(matchers, start_ms, end_ms))


def selectors(node: ast.Expr) -> list[tuple[ast.VectorSelector, int]]:
    """Every selector with the time it reaches back beyond its offset."""
    if isinstance(node, ast.VectorSelector):
        return [(node, LOOKBACK_MS)]
    if isinstance(node, ast.MatrixSelector):
        return [(node.vector, node.range_ms)]
    if isinstance(node, ast.Subquery):  # the inner selectors reach back over the subquery's range too
        return [(sel, back + node.range_ms + node.offset_ms) for sel, back in selectors(node.expr)]
    out: list[tuple[ast.VectorSelector, int]] = []
    for child in vars(node).values():
        if isinstance(child, ast.Expr):
            out += selectors(child)
        elif isinstance(child, tuple):
            out += [x for c in child if isinstance(c, ast.Expr) for x in selectors(c)]
    return out


def pins_time(node: ast.Expr) -> bool:
    """The expression has an ``@`` modifier or a subquery: it reads outside
    the window :func:`selectors` describes."""
    if isinstance(node, ast.Subquery) or getattr(node, "at", None) is not None:
        return True
    for child in vars(node).values():
        if isinstance(child, ast.Expr) and pins_time(child):
            return True
        if isinstance(child, tuple) and any(isinstance(c, ast.Expr) and pins_time(c) for c in child):
            return True
    return False


def _arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "%":
            return math.fmod(a, b)
        if op == "^":
            return math.pow(a, b)
        if op == "atan2":
            return math.atan2(a, b)
    except ZeroDivisionError:
        if op == "/":
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
        return math.nan
    except (OverflowError, ValueError):
        if op == "^":
            return math.inf if a > 0 else math.nan
        return math.nan
    raise PromQLError(f"unknown operator {op!r}")


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


_COMPARE_ARRAYS: dict[str, Callable[[Floats | float, Floats | float], Bools]] = {
    "==": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    "<": np.less,
    ">=": np.greater_equal,
    "<=": np.less_equal,
}


def _compare(op: str, a: float, b: float) -> bool:
    return _COMPARE[op](a, b)


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


@dataclass
class Evaluator:
    source: SampleSource
    lookback_ms: int = LOOKBACK_MS
    # set by rule groups: selectors' instant vectors shared by the rules of a
    # group at one instant (values are never mutated, so sharing is safe)
    shared: dict[tuple[object, ...], Columns] | None = None
    # a subquery without a step steps by this (Prometheus: the global evaluation interval)
    default_step_ms: int = 60_000
    _unnamed: dict[int, tuple[Labels, Labels]] = field(default_factory=dict, repr=False)
    # the query's start and end, for `@ start()` and `@ end()`
    _bounds: tuple[int, int] = field(default=(0, 0), repr=False)
    # a range query's selectors and range functions, computed for every step at once
    _steps: Steps | None = field(default=None, repr=False)
    # aggregation groups per (grouping, labels object), in short-lived evaluators
    _groups: dict[tuple[object, int], tuple[Labels, tuple[tuple[str, str], ...], Labels]] = field(
        default_factory=dict, repr=False
    )
    _group_cache: dict[tuple[object, ...], tuple[Sequence[Labels], Ints, list[Labels]]] = field(
        default_factory=dict, repr=False
    )

    def _drop_name(self, labels: Labels) -> Labels:
        """fn.drop_name, remembered per labels object in a group's short-lived
        evaluator (the entry holds the object, so its id stays unique)."""
        if self.shared is None:
            return fn.drop_name(labels)
        hit = self._unnamed.get(id(labels))
        if hit is None:
            hit = self._unnamed[id(labels)] = (labels, fn.drop_name(labels))
        return hit[1]

    # entry points -----------------------------------------------------------
    def instant(self, node: ast.Expr, t: int) -> Value:
        self._bounds = (t, t)
        return self.eval(node, t)

    def range(self, node: ast.Expr, start: int, end: int, step: int) -> Matrix:
        """A range query: the expression at every step; returns a matrix."""
        if step <= 0:
            raise PromQLError("zero or negative query resolution step widths are not accepted")
        if end < start:
            raise PromQLError("end timestamp must not be before start time")
        if (end - start) // step + 1 > MAX_STEPS:
            raise PromQLError(f"exceeded maximum resolution of {MAX_STEPS} points per timeseries; try a larger step")
        kind = _static_type(node)
        if kind in ("matrix", "string"):
            name = "range vector" if kind == "matrix" else "string"
            raise PromQLError(f'invalid expression type "{name}" for range query, must be Scalar or instant Vector')
        sels = selectors(node)
        if sels and not pins_time(node):
            lo = min(start - s.offset_ms - back for s, back in sels)
            hi = max(end - s.offset_ms for s, _ in sels)
            ev = Evaluator(PrefetchSource(self.source, lo, hi), self.lookback_ms, default_step_ms=self.default_step_ms)
            ev._steps = Steps(start, step, list(range(start, end + 1, step)))
            ev._steps.precompute(ev._block, ev.lookback_ms, node)
            whole = ev._steps.matrix(node)
            if whole is not None:
                return whole
        else:
            ev = self
        ev._bounds = (start, end)
        out: dict[tuple[tuple[str, str], ...], Series] = {}
        keys: dict[int, tuple[Labels, tuple[tuple[str, str], ...]]] = {}  # labels objects repeat across steps
        for t in range(start, end + 1, step):
            v = ev.eval(node, t)
            samples = [Sample({}, t, v.v)] if isinstance(v, Scalar) else self._as_vector(v)
            for s in samples:
                hit = keys.get(id(s.labels))
                if hit is None:
                    hit = keys[id(s.labels)] = (s.labels, _key(s.labels))
                series = out.get(hit[1])
                if series is None:
                    series = out[hit[1]] = Series(s.labels)
                series.ts.append(t)
                series.vs.append(s.v)
        return list(out.values())

    # dispatch --------------------------------------------------------------
    def eval(self, node: ast.Expr, t: int) -> Value:
        if isinstance(node, ast.NumberLiteral):
            return Scalar(t, node.value)
        if isinstance(node, ast.StringLiteral):
            return String(t, node.value)
        if isinstance(node, ast.Paren):
            return self.eval(node.expr, t)
        if isinstance(node, ast.VectorSelector):
            return self._vector(node, t)
        if isinstance(node, ast.MatrixSelector):
            at = self._pinned(node.vector.at, t) - node.vector.offset_ms
            # [t - range, t] in 2.x; staleness markers are not samples of a range
            ranged = (s.without_stale() for s in self.source.select(node.vector.matchers, at - node.range_ms, at))
            return [s for s in ranged if s.ts]
        if isinstance(node, ast.Subquery):
            return self._subquery(node, t)
        if isinstance(node, ast.Unary):
            v = self.eval(node.expr, t)
            if isinstance(v, Scalar):
                return Scalar(t, -v.v)
            vec = self._as_vector(v)
            return _unique([Sample(fn.drop_name(s.labels), t, -s.v) for s in vec], vec)
        if isinstance(node, ast.Call):
            return self._call(node, t)
        if isinstance(node, ast.Aggregate):
            return self._aggregate(node, t)
        if isinstance(node, ast.Binary):
            return self._binary(node, t)
        raise PromQLError(f"cannot evaluate {type(node).__name__}")

    def _pinned(self, at: ast.At | None, t: int) -> int:
        """The time a selector or subquery is evaluated at: ``t`` or its ``@``."""
        if at is None:
            return t
        if at.anchor == "start":
            return self._bounds[0]
        if at.anchor == "end":
            return self._bounds[1]
        return at.ms

    def _subquery(self, node: ast.Subquery, t: int) -> Matrix:
        """The inner expression at every multiple of the step in ``[end - range, end]``."""
        step = node.step_ms or self.default_step_ms
        end = self._pinned(node.at, t) - node.offset_ms
        first = -(-(end - node.range_ms) // step) * step  # the first multiple of step not before the range
        out: dict[tuple[tuple[str, str], ...], Series] = {}
        for ts in range(first, end + 1, step):
            for s in self._as_vector(self.eval(node.expr, ts)):
                series = out.setdefault(_key(s.labels), Series(s.labels))
                series.ts.append(ts)
                series.vs.append(s.v)
        return list(out.values())

    def _scalar(self, node: ast.Expr, t: int) -> float:
        v = self.eval(node, t)
        if not isinstance(v, Scalar):
            raise PromQLError("expected a scalar")
        return v.v

    @staticmethod
    def _as_vector(v: Value) -> Vector:
        return [s for s in v if isinstance(s, Sample)] if isinstance(v, list) else []

    def _vector(self, sel: ast.VectorSelector, t: int, sample_times: bool = False) -> Vector:
        """The newest sample of each series in ``[at - lookback, at]``; with
        ``sample_times`` each keeps its own timestamp (for ``timestamp()``)."""
        cols = self._selector_columns(sel, t)
        return samples(cols.labels, cols.values, cols.present, t, cols.times if sample_times else None)

    def _selector_columns(self, sel: ast.VectorSelector, t: int) -> Columns:
        at = self._pinned(sel.at, t) - sel.offset_ms
        key: tuple[object, ...] = (sel.matchers, sel.offset_ms, t) if sel.at is None else (sel.matchers, "@", at, t)
        if self.shared is not None and key in self.shared:
            return self.shared[key]
        pre = self._steps.at(sel, t) if self._steps is not None else None
        if pre is not None:
            cols = Columns(*pre)
        else:
            # a store's instant read: the newest samples only (a group's or range query's reads are shared)
            read = getattr(self.source, "select_latest", None)
            block = (
                read(sel.matchers, at - self.lookback_ms, at)
                if read
                else self._block(sel.matchers, at - self.lookback_ms, at)
            )
            # in label order, as Prometheus' storage returns series (sums and means add in that order)
            order = block.label_order()
            found, ok, idx = latest(block, np.array([at], dtype=np.int64), self.lookback_ms)
            times = block.ts[idx[0][order]] if len(block.ts) else None
            cols = Columns(block.sorted_labels(), found[0][order], ok[0][order], times)
        if self.shared is not None:
            self.shared[key] = cols
        return cols

    def _columns(self, node: ast.Expr, t: int) -> Columns | None:
        """A selector's or a range function's result as columns; None for other nodes."""
        while isinstance(node, ast.Paren):
            node = node.expr
        if isinstance(node, ast.VectorSelector):
            return self._selector_columns(node, t)
        if isinstance(node, ast.Call) and node.func in VECTORISED:
            arg = next(a for a in node.args if value_type(a) == "matrix")
            while isinstance(arg, ast.Paren):
                arg = arg.expr
            if isinstance(arg, ast.MatrixSelector):
                return self._range_columns(node, arg, t)
        return None

    def _block(self, matchers: Sequence[ast.Matcher], start_ms: int, end_ms: int) -> Block:
        """The matching series' samples in ``[start, end]`` (maybe more) as one block."""
        return read_block(self.source, matchers, start_ms, end_ms)

    # functions --------------------------------------------------------------
    def _call(self, node: ast.Call, t: int) -> Value:
        f, args = node.func, node.args
        if f == "time":
            return Scalar(t, t / 1000)
        if f == "vector":
            return [Sample({}, t, self._scalar(args[0], t))]
        if f == "scalar":
            vec = self._as_vector(self.eval(args[0], t))
            return Scalar(t, vec[0].v if len(vec) == 1 else math.nan)
        if f == "pi":
            return Scalar(t, math.pi)
        if f in fn.ELEMENTWISE:
            op = fn.ELEMENTWISE[f]
            vec = self._as_vector(self.eval(args[0], t))
            return _unique([Sample(fn.drop_name(s.labels), t, float(op(s.v))) for s in vec], vec)
        if f in fn.DATE_FUNCTIONS:
            if not args:
                return [Sample({}, t, fn.date_part(f, t / 1000))]
            vec = self._as_vector(self.eval(args[0], t))
            return _unique([Sample(fn.drop_name(s.labels), t, fn.date_part(f, s.v)) for s in vec], vec)
        if f == "timestamp":
            return self._timestamp(args[0], t)
        if f in ("sort", "sort_desc"):
            vec = self._as_vector(self.eval(args[0], t))
            # NaN last either way, as Prometheus
            return sorted(vec, key=lambda s: (s.v != s.v, s.v if f == "sort" or s.v != s.v else -s.v))
        if f in ("label_replace", "label_join"):
            return self._label_function(node, t)
        if f in ("histogram_count", "histogram_sum", "histogram_fraction"):
            self.eval(args[-1], t)
            return []  # native histograms only (Prometheus 2.42): a float sample has no count or sum
        if f in ("round", "clamp", "clamp_min", "clamp_max"):
            return self._clamp_round(f, args, t)
        if f == "absent":
            if self._as_vector(self.eval(args[0], t)):
                return []
            return [Sample(_absent_labels(args[0]), t, 1.0)]
        if f == "histogram_quantile":
            return self._histogram_quantile(self._scalar(args[0], t), self._as_vector(self.eval(args[1], t)), t)
        return self._range_function(node, t)

    def _clamp_round(self, f: str, args: Sequence[ast.Expr], t: int) -> Vector:
        vec = self._as_vector(self.eval(args[0], t))
        params = [self._scalar(a, t) for a in args[1:]]
        if f == "round":
            to = params[0] if params else 1.0
            return _unique([Sample(fn.drop_name(s.labels), t, fn._round_half_up(s.v, to)) for s in vec], vec)
        lo, hi = {
            "clamp": (params[0], params[-1]),
            "clamp_min": (params[0], math.inf),
            "clamp_max": (-math.inf, params[0]),
        }[f]
        if f == "clamp" and hi < lo:
            return []
        # Go's math.Max / math.Min: a NaN bound or sample gives NaN
        return _unique([Sample(fn.drop_name(s.labels), t, fn.go_max(lo, fn.go_min(hi, s.v))) for s in vec], vec)

    def _timestamp(self, arg: ast.Expr, t: int) -> Vector:
        """Each sample's own time for a selector, else the evaluation time."""
        while isinstance(arg, ast.Paren):
            arg = arg.expr
        if isinstance(arg, ast.VectorSelector):
            vec = self._vector(arg, t, sample_times=True)
        else:
            vec = [Sample(s.labels, t, s.v) for s in self._as_vector(self.eval(arg, t))]
        return _unique([Sample(fn.drop_name(s.labels), t, s.t / 1000) for s in vec], vec)

    def _label_function(self, node: ast.Call, t: int) -> Vector:
        vec = self._as_vector(self.eval(node.args[0], t))
        strings = [_string_arg(a) for a in node.args[1:]]
        dst = strings[0]
        if node.func == "label_replace":
            repl, src, pattern = strings[1:]
            try:
                rx = compile_anchored(pattern)
            except re.error:
                raise PromQLError(f"invalid regular expression in label_replace(): {pattern}") from None
            if not _LABEL_NAME.fullmatch(dst):
                raise PromQLError(f"invalid destination label name in label_replace(): {dst}")
            out: Vector = []
            for s in vec:
                res = rx.expand(repl, s.labels.get(src, ""))
                labels = s.labels
                if res is not None:
                    labels = {k: v for k, v in s.labels.items() if k != dst}
                    if res:
                        labels[dst] = res
                out.append(Sample(labels, t, s.v))
            return _unique(out, vec, always=True)
        sep, srcs = strings[1], strings[2:]
        for name in srcs:
            if not _LABEL_NAME.fullmatch(name):
                raise PromQLError(f"invalid source label name in label_join(): {name}")
        if not _LABEL_NAME.fullmatch(dst):
            raise PromQLError(f"invalid destination label name in label_join(): {dst}")
        out = []
        for s in vec:
            joined = sep.join(s.labels.get(name, "") for name in srcs)
            labels = {k: v for k, v in s.labels.items() if k != dst}
            if joined:
                labels[dst] = joined
            out.append(Sample(labels, t, s.v))
        return _unique(out, vec, always=True)

    def _range_function(self, node: ast.Call, t: int) -> Vector:
        f = node.func
        arg = next(a for a in node.args if value_type(a) == "matrix")
        while isinstance(arg, ast.Paren):
            arg = arg.expr
        if isinstance(arg, ast.MatrixSelector):
            at, offset, range_ms = self._pinned(arg.vector.at, t), arg.vector.offset_ms, arg.range_ms
        elif isinstance(arg, ast.Subquery):
            at, offset, range_ms = self._pinned(arg.at, t), arg.offset_ms, arg.range_ms
        else:
            raise PromQLError(f"{f}: expected a range vector selector or a subquery")
        end = at - offset
        start = end - range_ms
        if f == "absent_over_time":
            matrix = self.eval(arg, t)
            if isinstance(matrix, list) and any(isinstance(s, Series) and s.ts for s in matrix):
                return []
            return [Sample(_absent_labels(arg.vector) if isinstance(arg, ast.MatrixSelector) else {}, t, 1.0)]
        if f in VECTORISED and isinstance(arg, ast.MatrixSelector):
            cols = self._range_columns(node, arg, t)
            return samples(cols.labels, cols.values, cols.present, t)
        params = tuple(self._scalar(a, t) for a in node.args if value_type(a) == "scalar")
        keep_name = f == "last_over_time"
        out: Vector = []
        matrix = self.eval(arg, t)
        assert isinstance(matrix, list)
        compute = _per_series(f, start, end, range_ms, params, t)  # chosen once, not per series
        for series in matrix:
            if not isinstance(series, Series) or not series.ts:
                continue
            value = compute(series.ts, series.vs)
            if value is None:
                continue
            out.append(Sample(series.labels if keep_name else self._drop_name(series.labels), t, value))
        if not keep_name and len(out) > 1 and _names_differ(arg):
            out = _unique(out, out, always=True)
        return out

    def _range_columns(self, node: ast.Call, arg: ast.MatrixSelector, t: int) -> Columns:
        """A range function over a range selector, vectorised over its series."""
        f = node.func
        at, offset, range_ms = self._pinned(arg.vector.at, t), arg.vector.offset_ms, arg.range_ms
        end = at - offset
        params = tuple(self._scalar(a, t) for a in node.args if value_type(a) == "scalar")
        # warning/critical pairs repeat `rate(x[5m])`: a group computes it once per instant
        key = (f, arg.vector.matchers, offset, range_ms, params, t, at)
        if self.shared is not None and key in self.shared:
            return self.shared[key]
        keep_name = f == "last_over_time"
        pre = self._steps.at(node, t) if self._steps is not None else None
        if pre is not None:
            cols = Columns(*pre)
        else:
            block = self._block(arg.vector.matchers, end - range_ms, end)
            ends = np.array([end], dtype=np.int64)
            found, ok = range_function(f, block, ends - range_ms, ends, range_ms, params, ends * 0 + t)
            cols = Columns(block.labels if keep_name else block.unnamed(), found[0], ok[0], None)
        if not keep_name and _names_differ(arg) and np.count_nonzero(cols.present) > 1:
            rows = np.flatnonzero(cols.present).tolist()
            if len({_key(cols.labels[i]) for i in rows}) != len(rows):
                raise PromQLError("vector cannot contain metrics with the same labelset")
        if self.shared is not None:
            self.shared[key] = cols
        return cols

    def _histogram_quantile(self, q: float, vec: Vector, t: int) -> Vector:
        groups: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        labels_of: dict[tuple[tuple[str, str], ...], Labels] = {}
        for s in vec:
            le = s.labels.get("le")
            if le is None:
                continue
            try:
                bound = float(le)
            except ValueError:
                continue
            # grouped with the metric name, as Prometheus does: two histograms that differ only by
            # name give two results with the same labels, which is an error
            key = _key({k: v for k, v in s.labels.items() if k != "le"})
            groups.setdefault(key, []).append((bound, s.v))
            labels_of[key] = {k: v for k, v in s.labels.items() if k not in ("le", "__name__")}
        out = [Sample(labels_of[k], t, fn.histogram_quantile(q, b)) for k, b in groups.items()]
        return _unique(out, out, always=True)

    # aggregation -------------------------------------------------------------
    def _aggregate(self, node: ast.Aggregate, t: int) -> Vector:
        if node.op in _AGGREGATES:
            cols = self._columns(node.expr, t)
            if cols is not None:
                return self._aggregate_columns(node, cols, t)
        vec = self._as_vector(self.eval(node.expr, t))
        if node.op == "count_values":
            assert node.param is not None
            return _count_values(node, _string_arg(node.param), vec, t)
        param = self._scalar(node.param, t) if node.param is not None else 0.0
        if node.op in ("topk", "bottomk") and not -(2.0**63) <= param < 2.0**63:
            raise PromQLError(f"Scalar value {fn.format_value(param)} overflows int64")
        if node.op in ("topk", "bottomk"):
            cols = self._columns(node.expr, t)
            if cols is not None:
                return self._rank_columns(node, cols, int(param), t)

        def group_labels(labels: Labels) -> Labels:
            if node.without:
                return {k: v for k, v in labels.items() if k not in node.grouping and k != "__name__"}
            return {k: labels[k] for k in node.grouping if k in labels}

        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[Sample]]] = {}
        remember = self.shared is not None or self._steps is not None  # labels objects repeat across rules or steps
        how = (node.without, node.grouping)
        for s in vec:
            hit = self._groups.get((how, id(s.labels))) if remember else None
            if hit is None:
                g = group_labels(s.labels)
                hit = (s.labels, _key(g), g)
                if remember:
                    self._groups[(how, id(s.labels))] = hit
            found = groups.get(hit[1])
            if found is None:
                found = groups[hit[1]] = (hit[2], [])
            found[1].append(s)
        op = node.op
        out: Vector = []
        for labels, members in groups.values():
            vs = [m.v for m in members]
            if op in ("topk", "bottomk"):
                k = int(param)
                if k < 1:
                    continue
                top = op == "topk"
                ranked = sorted(members, key=lambda m: _rank(m.v, top), reverse=True)
                out += [Sample(m.labels, t, m.v) for m in ranked[:k]]
                continue
            value = _AGGREGATES[op](vs, param)
            out.append(Sample(labels, t, value))
        return out

    def _aggregate_columns(self, node: ast.Aggregate, cols: Columns, t: int) -> Vector:
        """sum, avg, min, max, ... over columns: each group's values, in the
        vector's order, go to the same function as the samples' would."""
        param = self._scalar(node.param, t) if node.param is not None else 0.0
        rows = np.flatnonzero(cols.present)
        if not len(rows):
            return []
        ids, labels = self._group_ids(node, cols.labels)
        groups = ids[rows]
        order = np.argsort(groups, kind="stable")
        ranked = groups[order]
        array = cols.values[rows][order]
        values = array.tolist()
        starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
        ends = [*starts[1:].tolist(), len(values)]
        aggregate = _AGGREGATES[node.op]
        extremes = _extremes(node.op, array, starts)
        out = []
        # groups in the order their first sample comes, as the samples' dict makes them
        for _, a, b, e in sorted(zip(order[starts].tolist(), starts.tolist(), ends, extremes, strict=True)):
            # a zero may be -0 or +0 by which came first: the function decides
            value = e if e is not None and e != 0.0 else aggregate(values[a:b], param)
            out.append(Sample(labels[int(ranked[a])], t, value))
        return out

    def _rank_columns(self, node: ast.Aggregate, cols: Columns, k: int, t: int) -> Vector:
        """topk/bottomk over columns, ordered as the samples' sort orders them:
        groups by their first sample, NaN last, equal values in vector order."""
        rows = np.flatnonzero(cols.present)
        if k < 1 or not len(rows):
            return []
        ids, _ = self._group_ids(node, cols.labels)
        groups = ids[rows]
        values = cols.values[rows]
        nan = np.isnan(values)
        key = np.where(nan, 0.0, -values if node.op == "topk" else values)
        first = np.zeros(int(ids.max()) + 1, dtype=np.int64)
        found, at = np.unique(groups, return_index=True)
        first[found] = at  # a group's place: its first sample's
        place = first[groups]
        order = np.lexsort((np.arange(len(rows)), key, nan, place))
        ranked = place[order]
        starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
        within = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
        kept = order[within < k].tolist()
        picked = rows[kept].tolist()
        return [Sample(cols.labels[i], t, v) for i, v in zip(picked, values[kept].tolist(), strict=True)]

    def _group_ids(self, node: ast.Aggregate, labels: Sequence[Labels]) -> tuple[Ints, list[Labels]]:
        """Each row's group (an index into the groups' labels), remembered per
        labels list in short-lived evaluators (the entry holds the list)."""
        how = (node.without, node.grouping, id(labels))
        remember = self.shared is not None or self._steps is not None
        hit = self._group_cache.get(how) if remember else None
        if hit is not None:
            return hit[1], hit[2]
        index: dict[tuple[tuple[str, str], ...], int] = {}
        groups: list[Labels] = []
        ids = np.empty(len(labels), dtype=np.int64)
        for i, row in enumerate(labels):
            if node.without:
                g = {k: v for k, v in row.items() if k not in node.grouping and k != "__name__"}
            else:
                g = {k: row[k] for k in node.grouping if k in row}
            k = _key(g)
            n = index.get(k)
            if n is None:
                n = index[k] = len(groups)
                groups.append(g)
            ids[i] = n
        if remember:
            self._group_cache[how] = (labels, ids, groups)
        return ids, groups

    # binary operators ---------------------------------------------------------
    def _binary(self, node: ast.Binary, t: int) -> Value:
        op = node.op
        if op in COMPARISONS:
            compared = self._compare_columns(node, t)
            if compared is not None:
                return compared
        lhs, rhs = self.eval(node.lhs, t), self.eval(node.rhs, t)
        if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
            if op in COMPARISONS:
                return Scalar(t, 1.0 if _compare(op, lhs.v, rhs.v) else 0.0)
            return Scalar(t, _arith(op, lhs.v, rhs.v))
        if isinstance(lhs, Scalar) or isinstance(rhs, Scalar):
            return self._vector_scalar(node, lhs, rhs, t)
        lv, rv = self._as_vector(lhs), self._as_vector(rhs)
        matching = node.matching or ast.VectorMatching()
        if op in SET_OPS:
            return _set_op(op, lv, rv, matching)
        return _vector_vector(node, lv, rv, matching, t)

    def _compare_columns(self, node: ast.Binary, t: int) -> Vector | None:
        """A selector or range function compared with a scalar, on columns: only
        the samples kept become samples. None when the operands are not so."""
        swap = value_type(node.lhs) == "scalar"
        if value_type(node.rhs if swap else node.lhs) != "vector" or value_type(node.lhs if swap else node.rhs) != (
            "scalar"
        ):
            return None
        cols = self._columns(node.rhs if swap else node.lhs, t)
        if cols is None:
            return None
        scalar = self._scalar(node.lhs if swap else node.rhs, t)
        compare = _COMPARE_ARRAYS[node.op]
        kept = compare(scalar, cols.values) if swap else compare(cols.values, scalar)
        if node.return_bool:
            rows = np.flatnonzero(cols.present)
            flags = kept[rows].tolist()
            return [
                Sample(self._drop_name(cols.labels[i]), t, 1.0 if k else 0.0)
                for i, k in zip(rows.tolist(), flags, strict=True)
            ]
        return samples(cols.labels, cols.values, cols.present & kept, t)

    def _vector_scalar(self, node: ast.Binary, lhs: Value, rhs: Value, t: int) -> Vector:
        op = node.op
        swap = isinstance(lhs, Scalar)
        scalar = lhs if swap else rhs
        vec = self._as_vector(rhs if swap else lhs)
        assert isinstance(scalar, Scalar)
        out: Vector = []
        if op in COMPARISONS:
            compare = _COMPARE[op]
            for s in vec:
                keep = compare(scalar.v, s.v) if swap else compare(s.v, scalar.v)
                if node.return_bool:
                    out.append(Sample(self._drop_name(s.labels), t, 1.0 if keep else 0.0))
                elif keep:
                    out.append(s if s.t == t else Sample(s.labels, t, s.v))  # samples are never mutated
            return out
        keep_name = op == "atan2"  # Prometheus 2.42 drops the name for + - * / % ^ only
        for s in vec:
            a, b = (scalar.v, s.v) if swap else (s.v, scalar.v)
            out.append(Sample(s.labels if keep_name else self._drop_name(s.labels), t, _arith(op, a, b)))
        return out if keep_name else _unique(out, vec)


PerSeries = Callable[[list[int], list[float]], float | None]


def _per_series(f: str, start: int, end: int, range_ms: int, params: tuple[float, ...], t: int) -> PerSeries:
    """The computation a range function does on each series' samples
    (``params``: the function's scalar arguments)."""
    if f in ("rate", "increase", "delta"):
        counter, per_second = f != "delta", f == "rate"
        return lambda ts, vs: fn.extrapolated(ts, vs, start, end, range_ms, counter, per_second)
    if f in ("irate", "idelta"):
        return lambda ts, vs: fn.instant_delta(ts, vs, f == "irate")
    if f == "deriv":
        return lambda ts, vs: fn.linear_regression(ts, vs, ts[0])[0] if len(ts) > 1 else None

    if f == "predict_linear":
        horizon = params[0]

        def predict(ts: list[int], vs: list[float]) -> float | None:
            if len(ts) < 2:
                return None
            slope, intercept = fn.linear_regression(ts, vs, t)
            return intercept + slope * horizon

        return predict
    if f == "holt_winters":
        sf, tf = params
        fn.check_smoothing(sf, tf)
        return lambda ts, vs: fn.holt_winters(vs, sf, tf)
    if f == "changes":
        return lambda ts, vs: float(
            sum(1 for a, b in itertools.pairwise(vs) if a != b and not (math.isnan(a) and math.isnan(b)))
        )
    if f == "resets":
        return lambda ts, vs: float(sum(1 for a, b in itertools.pairwise(vs) if b < a))
    if f == "quantile_over_time":
        q = params[0]
        return lambda ts, vs: fn.quantile(q, vs)
    if f in fn.OVER_TIME:
        over_time = fn.OVER_TIME[f]
        return lambda ts, vs: over_time(vs)
    raise PromQLError(f"function {f!r} is not supported")


def _names_differ(node: ast.Expr) -> bool:
    """A range selector that may match series of several names (so dropping the name may collide)."""
    if not isinstance(node, ast.MatrixSelector):
        return True
    return not any(m.name == "__name__" and m.op is ast.MatchOp.EQ for m in node.vector.matchers)


def _rank(v: float, top: bool) -> tuple[int, float]:
    """topk/bottomk order; NaN always ranks last."""
    if math.isnan(v):
        return (0, 0.0)
    return (1, v if top else -v)


def _extremes(op: str, values: Floats, starts: Ints) -> list[float | None]:
    """max or min of each group (rows ``starts[g]`` up to the next start) at
    once: NaN only where a group holds nothing else, as the functions below
    give. Other operators: ``None`` per group."""
    if op == "max":
        return list(np.fmax.reduceat(values, starts).tolist())
    if op == "min":
        return list(np.fmin.reduceat(values, starts).tolist())
    return [None] * len(starts)


def _stdvar(vs: list[float], _: float) -> float:
    return fn._variance(vs)


_AGGREGATES: dict[str, Callable[[list[float], float], float]] = {
    "sum": lambda vs, _: fn.naive_sum(vs),
    "avg": lambda vs, _: fn.incremental_mean(vs),
    "min": lambda vs, _: min((v for v in vs if not math.isnan(v)), default=math.nan),
    "max": lambda vs, _: max((v for v in vs if not math.isnan(v)), default=math.nan),
    "count": lambda vs, _: float(len(vs)),
    "group": lambda vs, _: 1.0,
    "stdvar": _stdvar,
    "stddev": lambda vs, p: math.sqrt(_stdvar(vs, p)),
    "quantile": lambda vs, q: fn.quantile(q, vs),
}


def _signature(labels: Labels, m: ast.VectorMatching) -> tuple[tuple[str, str], ...]:
    if m.on:
        return tuple(sorted((k, labels.get(k, "")) for k in m.labels))
    return _key({k: v for k, v in labels.items() if k != "__name__" and k not in m.labels})


def _set_op(op: str, lv: Vector, rv: Vector, m: ast.VectorMatching) -> Vector:
    rsigs = {_signature(s.labels, m) for s in rv}
    if op == "and":
        return [s for s in lv if _signature(s.labels, m) in rsigs]
    if op == "unless":
        return [s for s in lv if _signature(s.labels, m) not in rsigs]
    lsigs = {_signature(s.labels, m) for s in lv}
    return lv + [s for s in rv if _signature(s.labels, m) not in lsigs]


def _vector_vector(node: ast.Binary, lv: Vector, rv: Vector, m: ast.VectorMatching, t: int) -> Vector:
    op = node.op
    many, one = (rv, lv) if m.card == "one-to-many" else (lv, rv)
    one_by_sig: dict[tuple[tuple[str, str], ...], Sample] = {}
    for s in one:
        sig = _signature(s.labels, m)
        if sig in one_by_sig:
            side = "left" if m.card == "one-to-many" else "right"
            raise PromQLError(
                f"found duplicate series for the match group {dict(sig)} on the {side} hand-side of the operation: "
                "many-to-many matching not allowed: matching labels must be unique on one side"
            )
        one_by_sig[sig] = s
    seen: set[tuple[tuple[str, str], ...]] = set()
    out: Vector = []
    drop = (op not in COMPARISONS and op != "atan2") or node.return_bool  # 2.42 keeps the name for atan2
    for s in many:
        sig = _signature(s.labels, m)
        partner = one_by_sig.get(sig)
        if partner is None:
            continue
        if m.card == "one-to-one":
            if sig in seen:
                raise PromQLError(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                )
            seen.add(sig)
        a, b = (partner.v, s.v) if m.card == "one-to-many" else (s.v, partner.v)
        if op in COMPARISONS:
            keep = _compare(op, a, b)
            if node.return_bool:
                value = 1.0 if keep else 0.0
            elif keep:
                value = a
            else:
                continue
        else:
            value = _arith(op, a, b)
        labels = dict(s.labels)
        if drop:
            labels.pop("__name__", None)
        if m.card == "one-to-one":
            if m.on:
                labels = {k: v for k, v in labels.items() if k in m.labels}
            else:
                labels = {k: v for k, v in labels.items() if k not in m.labels}
        for name in m.include:
            if partner.labels.get(name):
                labels[name] = partner.labels[name]
            else:
                labels.pop(name, None)
        out.append(Sample(labels, t, value))
    if m.card != "one-to-one":
        keys = [_key(s.labels) for s in out]
        if len(keys) != len(set(keys)):
            raise PromQLError("vector cannot contain metrics with the same labelset")
    return out


def _count_values(node: ast.Aggregate, label: str, vec: Vector, t: int) -> Vector:
    """count_values: how many samples have each value, the value in ``label``."""
    if not _LABEL_NAME.fullmatch(label):
        raise PromQLError(f"invalid label name {label!r}")
    counts: dict[tuple[tuple[str, str], ...], Sample] = {}
    for s in vec:
        labels = {**s.labels, label: fn.format_value(s.v)}
        if node.without:
            g = {k: v for k, v in labels.items() if k not in node.grouping and k != "__name__"}
        else:
            g = {k: labels[k] for k in (*node.grouping, label) if k in labels}
        hit = counts.setdefault(_key(g), Sample(g, t, 0.0))
        hit.v += 1
    return list(counts.values())


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _string_arg(node: ast.Expr) -> str:
    while isinstance(node, ast.Paren):
        node = node.expr
    if not isinstance(node, ast.StringLiteral):
        raise PromQLError("expected a string literal argument")
    return node.value


def _unique(out: Vector, given: Vector, always: bool = False) -> Vector:
    """Prometheus refuses a result with two series of the same labels; dropping
    the name can only make them if ``given`` held several names."""
    if len(out) < 2 or not (always or len({s.labels.get("__name__") for s in given}) > 1):
        return out
    keys = {_key(s.labels) for s in out}
    if len(keys) != len(out):
        raise PromQLError("vector cannot contain metrics with the same labelset")
    return out


def _absent_labels(node: ast.Expr) -> Labels:
    if isinstance(node, ast.VectorSelector):
        counts: dict[str, int] = {}
        for mt in node.matchers:
            counts[mt.name] = counts.get(mt.name, 0) + 1
        return {
            mt.name: mt.value
            for mt in node.matchers
            if mt.op is ast.MatchOp.EQ and mt.name != "__name__" and counts[mt.name] == 1
        }
    return {}


def _static_type(node: ast.Expr) -> str:
    from switchman.controller.promql.parser import value_type

    return value_type(node)
