"""The PromQL syntax tree (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from switchman.controller.promql.regex import Regex, compile_anchored

_CACHE_LIMIT = 4096  # label values remembered per regex matcher


class MatchOp(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _regex: Regex | None = field(default=None, compare=False, repr=False)
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: MatchOp, value: str) -> Matcher:
        """A matcher; regular expressions are RE2, compiled once, anchored at both ends.

        :raises re.error: RE2 refuses the regular expression.
        """
        rx = compile_anchored(value) if op in (MatchOp.RE, MatchOp.NRE) else None
        return cls(name, op, value, rx)

    def matches(self, v: str) -> bool:
        if self.op is MatchOp.EQ:
            return v == self.value
        if self.op is MatchOp.NE:
            return v != self.value
        hit = self._seen.get(v)
        if hit is None:  # label values repeat across series: each is matched once
            assert self._regex is not None
            hit = self._regex.matches(v)
            if len(self._seen) >= _CACHE_LIMIT:
                self._seen.clear()
            self._seen[v] = hit
        return hit if self.op is MatchOp.RE else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


class Expr:
    """Base of every node."""


@dataclass(frozen=True)
class NumberLiteral(Expr):
    value: float


@dataclass(frozen=True)
class StringLiteral(Expr):
    value: str


@dataclass(frozen=True)
class At:
    """The ``@`` modifier: a fixed time, or the query's ``start()`` / ``end()``."""

    ms: int = 0
    anchor: str = ""  # "" (ms is the time), "start" or "end"


@dataclass(frozen=True)
class VectorSelector(Expr):
    name: str | None
    matchers: tuple[Matcher, ...]
    offset_ms: int = 0
    at: At | None = None

    def __str__(self) -> str:
        inner = ",".join(str(m) for m in self.matchers if not (m.name == "__name__" and m.op is MatchOp.EQ))
        s = (self.name or "") + (f"{{{inner}}}" if inner or not self.name else "")
        return s


@dataclass(frozen=True)
class MatrixSelector(Expr):
    vector: VectorSelector
    range_ms: int


@dataclass(frozen=True)
class Subquery(Expr):
    """``expr[range:step]``; ``step_ms`` 0 means the default evaluation interval."""

    expr: Expr
    range_ms: int
    step_ms: int = 0
    offset_ms: int = 0
    at: At | None = None


@dataclass(frozen=True)
class Paren(Expr):
    expr: Expr


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "-" or "+"
    expr: Expr


@dataclass(frozen=True)
class VectorMatching:
    """``on(...)`` / ``ignoring(...)`` and ``group_left(...)`` / ``group_right(...)``."""

    on: bool = False
    labels: tuple[str, ...] = ()
    card: str = "one-to-one"  # one-to-one | many-to-one (group_left) | one-to-many (group_right) | many-to-many
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching | None = None


@dataclass(frozen=True)
class Aggregate(Expr):
    op: str
    expr: Expr
    param: Expr | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
