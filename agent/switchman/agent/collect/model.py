"""Plain metric values shared by the push path and the Prometheus endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]


@dataclass(slots=True)
class Family:
    """One metric family: ``kind`` is ``counter``, ``gauge`` or ``histogram``
    (whose samples carry their suffix, see :meth:`add_part`); names keep their
    ``_total`` suffix as on the wire."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    suffixes: list[str] = field(default_factory=list)  # a histogram's: "_bucket", "_sum", "_count" per sample

    def add(self, value: float, *labels: tuple[str, str]) -> None:
        self.samples.append((labels, float(value)))

    def add_part(self, suffix: str, value: float, *labels: tuple[str, str]) -> None:
        """A sample of a histogram family: its name is the family's plus ``suffix``."""
        self.suffixes.extend([""] * (len(self.samples) - len(self.suffixes)))
        self.suffixes.append(suffix)
        self.samples.append((labels, float(value)))

    def named(self) -> list[tuple[str, Labels, float]]:
        """(sample name, labels, value) of every sample."""
        if not self.suffixes:
            return [(self.name, labels, value) for labels, value in self.samples]
        return [(self.name + suffix, lv[0], lv[1]) for suffix, lv in zip(self.suffixes, self.samples, strict=True)]

    @classmethod
    def of(cls, name: str, kind: str, help: str, value: float, *labels: tuple[str, str]) -> Family:
        """A family of one sample."""
        family = cls(name, kind, help)
        family.add(value, *labels)
        return family


class Collector(Protocol):
    """Yields metric families when read (prometheus_client's custom
    collectors): handed what it reads, it reads it at the moment it is called."""

    def collect(self) -> list[Family]: ...
