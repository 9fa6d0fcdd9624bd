"""The ``switchman_remote_write_*`` families, per endpoint, read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from switchman.controller.remote_write.config import Endpoint
from switchman.controller.remote_write.queue import Stats

LABELS = ["remote_name", "url"]


class RemoteWriteCollector(Collector):
    def __init__(self, stats: Callable[[], Sequence[tuple[Endpoint, Stats]]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        rows = self._stats()
        if not rows:
            return
        sent = CounterMetricFamily(
            "switchman_remote_write_samples", "Samples the endpoint answered with 2xx.", labels=LABELS
        )
        failed = CounterMetricFamily(
            "switchman_remote_write_failed_samples",
            "Samples dropped: refused for good (4xx), or gone from the store before they could be sent.",
            labels=LABELS,
        )
        retries = CounterMetricFamily(
            "switchman_remote_write_retries", "Requests retried (5xx, 429, connection errors).", labels=LABELS
        )
        pending = GaugeMetricFamily(
            "switchman_remote_write_pending_samples", "Samples stored and not yet sent.", labels=LABELS
        )
        lag = GaugeMetricFamily(
            "switchman_remote_write_lag_seconds",
            "Age of the oldest sample not yet sent (0 when none is pending).",
            labels=LABELS,
        )
        for e, s in rows:
            key = [e.name, e.url]
            sent.add_metric(key, s.samples)
            failed.add_metric(key, s.failed)
            retries.add_metric(key, s.retries)
            pending.add_metric(key, s.pending)
            lag.add_metric(key, s.lag_s)
        yield from (sent, failed, retries, pending, lag)
