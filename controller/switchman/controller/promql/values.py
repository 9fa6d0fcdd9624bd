"""Values a PromQL expression evaluates to."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchman.proto.staleness import STALE_NAN, is_stale

__all__ = ["STALE_NAN", "Labels", "Matrix", "Sample", "Scalar", "Series", "String", "Value", "Vector", "is_stale"]

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
    stale: bool = field(default=False, compare=False)  # some value is a staleness marker

    def without_stale(self) -> Series:
        """The samples a range vector sees: staleness markers are not samples."""
        if not self.stale:
            return self
        kept = [(t, v) for t, v in zip(self.ts, self.vs, strict=True) if not is_stale(v)]
        return Series(self.labels, [t for t, _ in kept], [v for _, v in kept])

    def sort_key(self) -> tuple[tuple[str, str], ...]:
        """The labels in Prometheus' series order, computed once per series (labels never change)."""
        if self._key is None:
            self._key = tuple(sorted(self.labels.items()))
        return self._key


Vector = list[Sample]
Matrix = list[Series]
Value = Scalar | String | Vector | Matrix
