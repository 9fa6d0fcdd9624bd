"""The local Prometheus endpoint: a custom collector that reads at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from switchman.agent.collect.model import Family


def to_metric(fam: Family) -> Metric:
    """A prometheus_client metric family; counters are named without ``_total``
    at the family level and with it on the samples, as the text format wants."""
    base = fam.name[: -len("_total")] if fam.kind == "counter" and fam.name.endswith("_total") else fam.name
    metric = Metric(base, fam.help, fam.kind)
    sample_name = base + "_total" if fam.kind == "counter" else base
    for labels, value in fam.samples:
        metric.add_sample(sample_name, dict(labels), value)
    return metric


class ScrapeCollector(Collector):
    """Calls ``read`` on every scrape and yields its families."""

    def __init__(self, read: Callable[[], list[Family]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        for fam in self._read():
            yield to_metric(fam)
