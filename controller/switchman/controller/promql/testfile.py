"""Rule unit-test files in ``promtool test rules`` format: the input series
notation, an in-memory sample source, and ``promql_expr_test`` cases."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchman.controller.promql import ast, parse
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.source import match_series
from switchman.controller.promql.values import STALE_NAN, Sample, Scalar, Series, is_stale
from switchman.controller.store.series import SeriesIndex, SeriesInfo
from switchman.proto.durations import parse_duration_ms

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STEP = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SPECIAL = r"[-+]?(?i:inf|nan)"  # as the PromQL lexer reads them: any case, signed
_TERM = re.compile(
    rf"^(?P<start>{_NUM}|_|stale|{_SPECIAL})(?:(?P<sign>[-+])(?P<step>{_STEP}|{_SPECIAL}))?(?:x(?P<n>\d+))?$"
)


class TestFileError(ValueError):
    """A test file that cannot be read: bad series notation or series name."""


def expand_values(notation: str) -> list[float | None]:
    """``0+10x3 _ 5 stale`` -> [0, 10, 20, 30, None, 5, STALE_NAN]. ``None`` is a missing point;
    ``stale`` is Prometheus' staleness marker."""
    out: list[float | None] = []
    for term in notation.split():
        m = _TERM.match(term)
        if not m:
            raise TestFileError(f"invalid series value {term!r}: expected a, a+bxn, a-bxn, _, _xn or stale")
        start, sign, step, n = m.group("start"), m.group("sign"), m.group("step"), m.group("n")
        if start in ("_", "stale"):
            if sign:
                raise TestFileError(f"invalid series value {term!r}")
            out += [None if start == "_" else STALE_NAN] * (int(n) if n else 1)
            continue
        a = float(start)
        if n is None:
            out.append(a)
            continue
        b = float(step or 0) * (-1 if sign == "-" else 1)
        for _ in range(int(n) + 1):  # accumulated, as promtool does (not a + b*i: rounding differs)
            out.append(a)
            a += b
    return out


def parse_series(text: str) -> tuple[str, dict[str, str]]:
    """``name{a="b"}`` or ``{__name__="x", a="b"}`` -> (name, labels)."""
    node = parse(text)
    if not isinstance(node, ast.VectorSelector) or any(m.op is not ast.MatchOp.EQ for m in node.matchers):
        raise TestFileError(f'invalid series {text!r}: expected name{{label="value", ...}}')
    labels = {m.name: m.value for m in node.matchers if m.name != "__name__"}
    return node.name or next((m.value for m in node.matchers if m.name == "__name__"), ""), labels


@dataclass
class MemorySource:
    """Series held in memory (the test's input series)."""

    index: SeriesIndex = field(default_factory=SeriesIndex)
    data: dict[int, Series] = field(default_factory=dict)
    # promtool loads input samples lazily: up to the rules' evaluation time, then up to the
    # group's last eval time for promql_expr_test; later samples are not visible
    horizon_ms: int | None = None

    def add(self, name: str, labels: dict[str, str], points: Sequence[tuple[int, float]]) -> None:
        sid = len(self.data) + 1
        info = SeriesInfo(sid, name, tuple(sorted(labels.items())))
        self.index._add(info)
        self.data[sid] = Series({"__name__": name, **labels}, [t for t, _ in points], [v for _, v in points])

    def append(self, labels: dict[str, str], ts: int, value: float) -> None:
        """Add one point (recording rules and ALERTS series write here)."""
        name = labels.get("__name__", "")
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))
        sid = self.index.get(name, rest)
        if sid is None:
            self.add(name, dict(rest), [(ts, value)])
            return
        s = self.data[sid]
        s.ts.append(ts)
        s.vs.append(value)

    def select(self, matchers: Sequence[ast.Matcher], start_ms: int, end_ms: int) -> list[Series]:
        if self.horizon_ms is not None:
            end_ms = min(end_ms, self.horizon_ms)
        out = []
        for info in match_series(self.index, matchers):
            s = self.data[info.id]
            keep = [(t, v) for t, v in zip(s.ts, s.vs, strict=True) if start_ms <= t <= end_ms]
            if keep:
                vs = [v for _, v in keep]
                out.append(Series(s.labels, [t for t, _ in keep], vs, stale=any(map(is_stale, vs))))
        return out


def load_input(series: list[dict[str, object]], interval_ms: int) -> MemorySource:
    src = MemorySource()
    for item in series:
        name, labels = parse_series(str(item["series"]))
        values = expand_values(str(item.get("values", "")))
        src.add(name, labels, [(i * interval_ms, v) for i, v in enumerate(values) if v is not None])
    return src


@dataclass(frozen=True)
class ExprResult:
    labels: dict[str, str]
    value: float


def evaluate(src: MemorySource, expr: str, eval_time_ms: int, step_ms: int = 60_000) -> list[ExprResult]:
    """``expr`` at ``eval_time_ms``; a subquery without a step steps by ``step_ms``
    (promtool: the file's evaluation_interval)."""
    value = Evaluator(src, default_step_ms=step_ms).instant(parse(expr), eval_time_ms)
    if isinstance(value, Scalar):
        return [ExprResult({}, value.v)]
    if not isinstance(value, list):
        raise PromQLError("string results cannot be tested")
    return [ExprResult(dict(s.labels), s.v) for s in value if isinstance(s, Sample)]


def format_labels(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


def almost_equal(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-300) or abs(a - b) < 1e-12


def duration_ms(text: object) -> int:
    return parse_duration_ms(str(text))
