"""Values a PromQL expression evaluates to."""

from __future__ import annotations

from dataclasses import dataclass, field

Labels = dict[str, str]


@dataclass(frozen=True, slots=True)
class Scalar:
    t: int
    v: float


@dataclass(frozen=True, slots=True)
class String:
    t: int
    v: str


@dataclass(slots=True)
class Sample:
    labels: Labels
    t: int
    v: float


@dataclass(slots=True)
class Series:
    labels: Labels
    ts: list[int] = field(default_factory=list)
    vs: list[float] = field(default_factory=list)
    _key: tuple[tuple[str, str], ...] | None = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple[tuple[str, str], ...]:
        """The labels in Prometheus' series order, computed once per series (labels never change)."""
        if self._key is None:
            self._key = tuple(sorted(self.labels.items()))
        return self._key


Vector = list[Sample]
Matrix = list[Series]
Value = Scalar | String | Vector | Matrix
