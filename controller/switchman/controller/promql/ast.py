"""The PromQL syntax tree (frozen dataclasses)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


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
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: MatchOp, value: str) -> Matcher:
        rx = re.compile(f"^(?:{value})$", re.DOTALL) if op in (MatchOp.RE, MatchOp.NRE) else None
        return cls(name, op, value, rx)

    def matches(self, v: str) -> bool:
        if self.op is MatchOp.EQ:
            return v == self.value
        if self.op is MatchOp.NE:
            return v != self.value
        assert self._regex is not None
        hit = self._regex.match(v) is not None
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
class VectorSelector(Expr):
    name: str | None
    matchers: tuple[Matcher, ...]
    offset_ms: int = 0

    def __str__(self) -> str:
        inner = ",".join(str(m) for m in self.matchers if not (m.name == "__name__" and m.op is MatchOp.EQ))
        s = (self.name or "") + (f"{{{inner}}}" if inner or not self.name else "")
        return s


@dataclass(frozen=True)
class MatrixSelector(Expr):
    vector: VectorSelector
    range_ms: int


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
