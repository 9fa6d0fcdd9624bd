"""The controller's own Prometheus endpoint: fleet gauges and internals, read
at scrape time, and stored every 15 seconds under ``job="switchman-controller"``
so dashboards over the controller's own API see them too."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from switchman.controller import __version__
from switchman.controller.promql.values import Sample
from switchman.controller.remote_write.metrics import RemoteWriteCollector
from switchman.controller.wiring import ControllerRef


class ControllerMetrics:
    def __init__(self, ref: ControllerRef) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.push_seconds = Histogram(
            "switchman_controller_push_duration_seconds",
            "PushTelemetry handling time (validate, store, commit).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.registry.register(_FleetCollector(ref))
        self.registry.register(RemoteWriteCollector(lambda: ref.get().remote_write.stats() if ref.ready else []))


OWN_JOB = "switchman-controller"


def own_samples(registry: CollectorRegistry, instance: str, ts: int) -> list[Sample]:
    """What the endpoint serves now, as samples with the controller's target labels."""
    out = []
    for metric in registry.collect():
        for s in metric.samples:
            if s.name.endswith("_created"):  # prometheus_client's creation times: not series anyone queries
                continue
            out.append(Sample({**s.labels, "__name__": s.name, "job": OWN_JOB, "instance": instance}, ts, s.value))
    return out


class _FleetCollector(Collector):
    def __init__(self, ref: ControllerRef) -> None:
        self._ref = ref

    def collect(self) -> Iterator[Metric]:
        if not self._ref.ready:
            return
        core = self._ref.get()
        up, down = core.fleet.counts()
        hosts = GaugeMetricFamily("switchman_hosts", "Registered hosts by state.", labels=["state"])
        hosts.add_metric(["up"], up)
        hosts.add_metric(["down"], down)
        yield hosts
        yield GaugeMetricFamily("switchman_series", "Interned series.", value=len(core.storage.index))
        expiry = GaugeMetricFamily(
            "switchman_host_cert_expiry_timestamp_seconds", "When each agent's certificate expires.", labels=["host"]
        )
        for h in core.fleet.hosts.values():
            if h.cert_not_after_ms:
                expiry.add_metric([h.host_id], h.cert_not_after_ms / 1000)
        yield expiry
        yield CounterMetricFamily(
            "switchman_ingest_samples", "Samples committed by PushTelemetry.", value=core.ingest.samples_total
        )
        yield CounterMetricFamily(
            "switchman_ingest_duplicate_batches",
            "Batches received again and not stored twice.",
            value=core.ingest.duplicates_total,
        )
        yield GaugeMetricFamily(
            "switchman_ingest_samples_per_second", "Ingest rate over the last minute.", value=core.rate.per_second()
        )
        yield GaugeMetricFamily(
            "switchman_sqlite_bytes", "Size of the database and its WAL.", value=core.storage.db.size_bytes()
        )
        yield CounterMetricFamily(
            "switchman_sqlite_commits", "Write transactions committed.", value=core.storage.writer.commits
        )
        yield GaugeMetricFamily(
            "switchman_store_full",
            "1 while the disk under the database is full: pushes are refused (agents keep spooling).",
            value=1 if core.storage.writer.full else 0,
        )
        sent = CounterMetricFamily(
            "switchman_notifications", "Notification deliveries by outcome.", labels=["notifier", "outcome"]
        )
        for (notifier, outcome), n in sorted(core.outbox.outcomes.items()):
            sent.add_metric([notifier, outcome], n)
        yield sent
        yield GaugeMetricFamily(
            "switchman_notification_outbox", "Messages waiting in the outbox.", value=core.outbox.pending
        )
        info = GaugeMetricFamily("switchman_controller_build_info", "Controller version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
