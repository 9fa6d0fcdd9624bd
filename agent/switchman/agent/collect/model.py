"""Plain metric values shared by the push path and the Prometheus endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]


@dataclass(slots=True)
class Family:
    """One metric family: ``kind`` is ``counter`` or ``gauge``; names keep their
    ``_total`` suffix as on the wire."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, *labels: tuple[str, str]) -> None:
        self.samples.append((labels, float(value)))

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
