"""Plain metric values shared by the push path and the Prometheus endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

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
