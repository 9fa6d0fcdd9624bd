"""Columns: an instant vector as arrays, and :class:`Steps`, a range
query's selectors and range functions computed for every step at once
(ADR 0020). The evaluator runs the rest of the tree per step over them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from switchman.controller.promql import ast
from switchman.controller.promql.parser import value_type
from switchman.controller.promql.values import Labels, Matrix, Sample, Series, Vector
from switchman.controller.promql.windows import VECTORISED, Block, Bools, Floats, Ints, latest, range_function

Read = Callable[[Sequence[ast.Matcher], int, int], Block]  # a selector's samples in [start, end], maybe more


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def samples(labels: Sequence[Labels], values: Floats, present: Bools, t: int, times: Ints | None = None) -> Vector:
    """The present entries of one time's row as samples (at ``t``, or at their own ``times``)."""
    cols = np.flatnonzero(present)
    vals = values[cols].tolist()
    if times is None:
        return [Sample(labels[c], t, v) for c, v in zip(cols.tolist(), vals, strict=True)]
    return [Sample(labels[c], ts, v) for c, ts, v in zip(cols.tolist(), times[cols].tolist(), vals, strict=True)]


@dataclass(frozen=True)
class Columns:
    """An instant vector as arrays: row ``i`` (labels ``labels[i]``) is in the
    vector when ``present[i]``, with ``values[i]`` (and its own sample time
    ``times[i]`` for selectors)."""

    labels: Sequence[Labels]
    values: Floats
    present: Bools
    times: Ints | None = None


Precomputed = tuple[
    list[Labels], Floats, Bools, Ints | None
]  # labels per column; values, presence, sample times per step


@dataclass
class Steps:
    """A range query's vector selectors and range functions (over range
    selectors, with literal parameters) for every step at once: one read and
    one vectorised pass instead of one per step."""

    start: int
    step: int
    times: list[int]
    found: dict[int, tuple[ast.Expr, Precomputed]] = field(default_factory=dict)
    MAX_CELLS = 4_000_000  # steps x series held per node; beyond, each step computes its own

    def at(self, node: ast.Expr, t: int) -> Precomputed | None:
        hit = self.found.get(id(node))
        if hit is None:
            return None
        j = (t - self.start) // self.step
        labels, values, present, times = hit[1]
        return labels, values[j], present[j], None if times is None else times[j]

    def precompute(self, read: Read, lookback_ms: int, node: ast.Expr) -> None:
        """Compute every selector and range function of ``node`` this can, reading with ``read``."""
        if isinstance(node, ast.VectorSelector):
            self._selector(read, lookback_ms, node)
            return
        if isinstance(node, ast.MatrixSelector):
            return
        if isinstance(node, ast.Call) and self._range_call(read, node):
            return
        for child in vars(node).values():
            if isinstance(child, ast.Expr):
                self.precompute(read, lookback_ms, child)
            elif isinstance(child, tuple):
                for c in child:
                    if isinstance(c, ast.Expr):
                        self.precompute(read, lookback_ms, c)

    def _selector(self, read: Read, lookback_ms: int, sel: ast.VectorSelector) -> None:
        at = np.array(self.times, dtype=np.int64) - sel.offset_ms
        block = read(sel.matchers, int(at[0]) - lookback_ms, int(at[-1]))
        if len(at) * len(block) > self.MAX_CELLS:
            return
        order = block.label_order()
        values, present, idx = latest(block, at, lookback_ms)
        times = block.ts[np.clip(idx[:, order], 0, max(len(block.ts) - 1, 0))] if len(block.ts) else None
        labels = block.sorted_labels()
        self.found[id(sel)] = (sel, (labels, values[:, order], present[:, order], times))

    def _range_call(self, read: Read, node: ast.Call) -> bool:
        """Whether ``node`` is a range function this can compute (then it is computed)."""
        if node.func not in VECTORISED:
            return False
        arg = next((a for a in node.args if value_type(a) == "matrix"), None)
        while isinstance(arg, ast.Paren):
            arg = arg.expr
        params = []
        for given in node.args:
            a = given
            while isinstance(a, ast.Paren):
                a = a.expr
            if value_type(a) == "scalar":
                if not isinstance(a, ast.NumberLiteral):
                    return False
                params.append(a.value)
        if not isinstance(arg, ast.MatrixSelector):
            return False
        evaluated = np.array(self.times, dtype=np.int64)
        end = evaluated - arg.vector.offset_ms
        block = read(arg.vector.matchers, int(end[0]) - arg.range_ms, int(end[-1]))
        if len(end) * len(block) > self.MAX_CELLS:
            return False
        values, present = range_function(node.func, block, end - arg.range_ms, end, arg.range_ms, params, evaluated)
        labels = block.labels if node.func == "last_over_time" else block.unnamed()
        self.found[id(node)] = (node, (labels, values, present, None))
        return True

    def matrix(self, node: ast.Expr) -> Matrix | None:
        """The query's answer when its root is computed already (None if not,
        or when dropping the name may have made equal label sets: the steps
        then find the error)."""
        while isinstance(node, ast.Paren):
            node = node.expr
        hit = self.found.get(id(node))
        if hit is None:
            return None
        labels, values, present, _ = hit[1]
        if len({_key(x) for x in labels}) != len(labels):
            return None
        seen = present.any(axis=0)
        cols = np.flatnonzero(seen)
        first = np.argmax(present[:, cols], axis=0)
        ordered = cols[np.lexsort((cols, first))]  # as the steps would: by first appearance
        times = np.array(self.times, dtype=np.int64)
        out: Matrix = []
        for c in ordered.tolist():
            rows = present[:, c]
            out.append(Series(labels[c], times[rows].tolist(), values[rows, c].tolist()))
        return out
