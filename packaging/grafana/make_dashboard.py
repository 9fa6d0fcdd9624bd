"""Writes packaging/grafana/switchman.json, a Grafana dashboard whose data
source is the controller's own Prometheus API (docs/http-api.md) or a
Prometheus scraping the controller and the agents; the data source is chosen
on import. ``python packaging/grafana/make_dashboard.py``."""

from __future__ import annotations

import json
from pathlib import Path

PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Controller", "Hosts by state", [("sum by (state) (switchman_hosts)", "{{state}}")]),
    ("Controller", "Ingest samples/s", [("switchman_ingest_samples_per_second", "samples/s")]),
    (
        "Controller",
        "PushTelemetry p99 (s)",
        [
            (
                "histogram_quantile(0.99, sum by (le) (rate(switchman_controller_push_duration_seconds_bucket[5m])))",
                "p99",
            )
        ],
    ),
    ("Controller", "SQLite size (bytes)", [("switchman_sqlite_bytes", "database + WAL")]),
    (
        "Controller",
        "Notifications/s by outcome",
        [("sum by (notifier, outcome) (rate(switchman_notifications_total[5m]))", "{{notifier}} {{outcome}}")],
    ),
    ("Controller", "Outbox waiting", [("switchman_notification_outbox", "messages")]),
    (
        "Controller",
        "Certificate days left",
        [("(switchman_host_cert_expiry_timestamp_seconds - time()) / 86400", "{{host}}")],
    ),
    (
        "Controller",
        "Controller CPU (cores)",
        [('rate(process_cpu_seconds_total{job="switchman-controller"}[5m])', "cores")],
    ),
    (
        "SLOs",
        "Error budget remaining",
        [("slo:period_error_budget_remaining:ratio", "{{sloth_service}}/{{sloth_slo}}")],
    ),
    ("SLOs", "Burn rate (5m)", [("slo:current_burn_rate:ratio", "{{sloth_service}}/{{sloth_slo}}")]),
    ("Alerts", "Firing alerts by severity", [('count by (severity) (ALERTS{alertstate="firing"})', "{{severity}}")]),
    ("Agents", "Agents connected", [("sum(switchman_agent_controller_connected)", "connected")]),
    ("Agents", "Spool batches waiting", [("switchman_agent_spool_batches", "{{instance}}")]),
    ("Agents", "Push failures/s", [("rate(switchman_agent_push_failures_total[5m])", "{{instance}}")]),
    (
        "Agents",
        "Collection CPU per cycle (ms)",
        [
            (
                "1000 * rate(switchman_agent_collect_cpu_seconds_total[5m]) / rate(switchman_agent_collect_cycles_total[5m])",
                "{{instance}}",
            ),
        ],
    ),
    ("Hosts", "CPU utilisation", [("switchman_node_cpu_utilisation_ratio", "{{instance}}")]),
    ("Hosts", "Load (1m)", [("node_load1", "{{instance}}")]),
    ("Hosts", "Memory available (bytes)", [("node_memory_MemAvailable_bytes", "{{instance}}")]),
    ("Services", "Probe success", [("probe_success", "{{service}} {{slot}} {{probe}}")]),
    ("Services", "Live slot", [("switchman_service_slot_active == 1", "{{service}} {{slot}}")]),
    ("Services", "Slot connections", [("switchman_service_slot_connections", "{{service}} {{slot}}")]),
    ("Services", "Slot restarts/s", [("rate(switchman_service_slot_restarts_total[5m])", "{{service}} {{slot}}")]),
    ("Services", "Slot memory (bytes)", [("switchman_service_slot_resident_memory_bytes", "{{service}} {{slot}}")]),
]


def dashboard() -> dict[str, object]:
    panels: list[dict[str, object]] = []
    y = 0
    row = ""
    x = 0
    for pid, (section, title, targets) in enumerate(PANELS, start=1):
        if section != row:
            row, x = section, 0
            y += 1 if panels else 0
            panels.append(
                {
                    "type": "row",
                    "title": section,
                    "id": 1000 + pid,
                    "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                    "collapsed": False,
                }
            )
            y += 1
        panels.append(
            {
                "id": pid,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
                "targets": [
                    {
                        "refId": chr(65 + i),
                        "expr": expr,
                        "legendFormat": legend,
                        "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    }
                    for i, (expr, legend) in enumerate(targets)
                ],
                "fieldConfig": {"defaults": {}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            }
        )
        x += 8
        if x >= 24:
            x, y = 0, y + 8
    return {
        "title": "Switchman",
        "uid": "switchman-overview",
        "schemaVersion": 38,
        "version": 1,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "tags": ["switchman"],
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
        },
        "panels": panels,
    }


def main() -> None:
    out = Path(__file__).with_name("switchman.json")
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")


if __name__ == "__main__":
    main()
