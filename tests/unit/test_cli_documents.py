"""The `-o json` documents, pinned field by field and in order: they are a
contract (docs/cli.md) that scripts parse. Messages with every field set,
fields left at their defaults, NaN, 64-bit integers and enums."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from switchman.cli.commands import chaos, drill, fleet, incidents, query, rollout, services, silence, slo
from switchman.proto.v1 import common_pb2, ops_pb2

T = 1_700_000_000_000
NAN = float("nan")
FAULT = common_pb2.Fault(
    id="f-1",
    spec=common_pb2.FaultSpec(
        kind="latency", duration_ms=60_000, service="hello", params={"latency": "200ms", "jitter": "5ms"}
    ),
    state=common_pb2.FAULT_STATE_ACTIVE,
    applied_at_ms=T,
    expires_at_ms=T + 60_000,
    host_id="web-1",
)
REVERTED = common_pb2.Fault(
    id="f-2",
    spec=common_pb2.FaultSpec(kind="cpu", duration_ms=1000),
    state=common_pb2.FAULT_STATE_REVERTED,
    applied_at_ms=T,
    expires_at_ms=T + 1000,
    reverted_at_ms=T + 500,
    host_id="web-2",
    error="x",
)
DRILL = ops_pb2.Drill(
    id=5,
    title="latency",
    state="completed",
    targets=["web-1"],
    faults=[FAULT, REVERTED],
    probes=[
        ops_pb2.DrillProbe(
            name="ok",
            expr="up == 1",
            before=1.0,
            during=NAN,
            after=0.0,
            held_before=True,
            held_during=False,
            held_after=True,
        ),
        ops_pb2.DrillProbe(name="empty"),
    ],
    started_at_ms=T,
    time_to_detect_seconds=1.23456,
    reason="all held",
    dry_run=True,
    source_yaml="title: latency\n",
)
HOSTS = [
    ops_pb2.HostSummary(
        host_id="web-1",
        hostname="w1",
        address="10.0.0.1:7100",
        state="up",
        labels={"zone": "a", "role": "web"},
        last_heartbeat_ms=T,
        registered_at_ms=T - 1000,
        agent_version="0.1.0",
        capabilities=["x"],
        cert_days_left=12,
    ),
    ops_pb2.HostSummary(host_id="web-2", state="down", cert_days_left=-1),
    ops_pb2.HostSummary(host_id="web-3", cert_days_left=0),
]
INCIDENTS = [
    ops_pb2.Incident(
        id=7,
        priority="P2",
        state="acknowledged",
        title="hello is down",
        dedup_key="k",
        service="hello",
        host_id="web-1",
        opened_at_ms=T,
        acknowledged_at_ms=T + 60_000,
        acknowledged_by="alice",
        manual_resolve=True,
        timeline=[
            ops_pb2.TimelineEntry(
                timestamp_ms=T, kind="alert.firing", actor="controller", message="m", attributes={"a": "b"}
            ),
            ops_pb2.TimelineEntry(),
        ],
        alerts=[ops_pb2.Alert(labels={"alertname": "Down", "host": "web-1"}, state="firing", value=1.0)],
    ),
    ops_pb2.Incident(id=8),
]
QUERIES = [
    ops_pb2.QueryResponse(
        result_type="vector",
        result=[
            ops_pb2.SeriesResult(
                metric={"__name__": "up", "host": "web-1"}, points=[common_pb2.Point(timestamp_ms=1500, value=1.0)]
            ),
            ops_pb2.SeriesResult(metric={"a": "b"}),
        ],
    ),
    ops_pb2.QueryResponse(
        result_type="matrix",
        result=[
            ops_pb2.SeriesResult(
                metric={"a": "b"},
                points=[
                    common_pb2.Point(timestamp_ms=1000, value=NAN),
                    common_pb2.Point(timestamp_ms=2000, value=float("inf")),
                ],
            )
        ],
    ),
    ops_pb2.QueryResponse(result_type="scalar", scalar=common_pb2.Point(timestamp_ms=3000, value=2.5)),
]
ROLLOUTS = [
    ops_pb2.Rollout(
        id=3,
        service="hello",
        version="2",
        from_version="1",
        state="running",
        options=ops_pb2.RolloutOptions(strategy="canary", max_parallel=2),
        batches=2,
        current_batch=1,
        created_at_ms=T,
        updated_at_ms=T + 5,
        finished_at_ms=0,
        message="batch 2",
        created_by="alice",
        hosts=[
            ops_pb2.RolloutHost(
                host_id="web-1", state="healthy", batch=0, from_version="1", message="ok", updated_at_ms=T
            ),
            ops_pb2.RolloutHost(host_id="web-3", state="skipped", batch=0, message="down"),
        ],
        analysis=[
            ops_pb2.AnalysisValue(name="errors", expr="rate(e[1m]) > 0", verdict="pass", value=0.0, evaluated_at_ms=T),
            ops_pb2.AnalysisValue(name="nan", verdict="inconclusive", value=NAN),
        ],
    ),
    ops_pb2.Rollout(id=4, batches=0, current_batch=0, finished_at_ms=T),
]
STATUS = [
    common_pb2.ServiceStatus(
        name="hello",
        active_slot=common_pb2.SLOT_BLUE,
        active_version="2",
        previous_version="1",
        phase="idle",
        spec_revision=3,
        slots=[
            common_pb2.SlotStatus(
                slot=common_pb2.SLOT_BLUE,
                state=common_pb2.SLOT_STATE_HEALTHY,
                version="2",
                port=18081,
                pid=42,
                restarts=1,
                rss_bytes=123456789012,
                cpu_seconds=1.5,
                open_fds=9,
                active_connections=3,
            ),
            common_pb2.SlotStatus(slot=common_pb2.SLOT_GREEN),
        ],
    ),
    common_pb2.ServiceStatus(),
]
SILENCES = [
    ops_pb2.Silence(
        id="s-1",
        matchers=[ops_pb2.Matcher(name="alertname", op="=~", value="Foo.*")],
        starts_at_ms=T,
        ends_at_ms=T + 3600_000,
        created_by="bob",
        comment="why",
        state="active",
    ),
    ops_pb2.Silence(),
]
SLOS = [
    ops_pb2.SLOSummary(
        service="shop",
        name="requests",
        objective=99.9,
        attained=99.951234567,
        budget_remaining=0.512345678,
        period="30d",
        windows=[
            ops_pb2.SLOWindow(window="5m", error_ratio=0.002, burn_rate=2.0, events=300000),
            ops_pb2.SLOWindow(window="1h", insufficient_data=True, events=3),
            ops_pb2.SLOWindow(window="6h"),
        ],
    ),
    ops_pb2.SLOSummary(service="shop", name="probes", objective=99.0, attained=50.0, insufficient_data=True),
]
REPORTS = [
    ops_pb2.SLOReportEntry(
        slo=SLOS[0],
        worst_windows=[
            ops_pb2.SLOWindow(
                window="2026-11-23T06:00Z", error_ratio=0.01, burn_rate=10.0, events=5, insufficient_data=True
            ),
            ops_pb2.SLOWindow(),
        ],
        violations=[
            ops_pb2.SLOViolation(start_ms=T, end_ms=T + 600_000, duration_seconds=600.0, alert="ShopErrorBudgetBurn"),
            ops_pb2.SLOViolation(),
        ],
    ),
]


FAULT_DOCS = [
    {
        "id": "f-1",
        "host": "web-1",
        "kind": "latency",
        "service": "hello",
        "params": {"jitter": "5ms", "latency": "200ms"},
        "state": "active",
        "applied": "2023-11-14T22:13:20Z",
        "expires": "2023-11-14T22:14:20Z",
        "reverted": None,
        "error": "",
    },
    {
        "id": "f-2",
        "host": "web-2",
        "kind": "cpu",
        "service": "",
        "params": {},
        "state": "reverted",
        "applied": "2023-11-14T22:13:20Z",
        "expires": "2023-11-14T22:13:21Z",
        "reverted": "2023-11-14T22:13:20Z",
        "error": "x",
    },
]


SLO_DOCS = [
    {
        "service": "shop",
        "slo": "requests",
        "objective": 99.9,
        "period": "30d",
        "attained": 99.95123,
        "budget_remaining": 0.51235,
        "insufficient_data": False,
        "windows": {
            "5m": {"error_ratio": 0.002, "burn_rate": 2.0, "events": 300000},
            "1h": None,
            "6h": {"error_ratio": 0.0, "burn_rate": 0.0, "events": 0},
        },
    },
    {
        "service": "shop",
        "slo": "probes",
        "objective": 99.0,
        "period": "",
        "attained": None,
        "budget_remaining": None,
        "insufficient_data": True,
        "windows": {},
    },
]


EXPECTED: dict[str, Any] = {
    "fault": FAULT_DOCS,
    "drill": {
        "id": 5,
        "title": "latency",
        "state": "completed",
        "reason": "all held",
        "dry_run": True,
        "targets": ["web-1"],
        "started": "2023-11-14T22:13:20Z",
        "finished": None,
        "time_to_detect_seconds": 1.235,
        "time_to_recover_seconds": 0.0,
        "faults": FAULT_DOCS,
        "steady_state": [
            {
                "name": "ok",
                "expr": "up == 1",
                "before": 1.0,
                "during": None,
                "after": 0.0,
                "held_before": True,
                "held_during": False,
                "held_after": True,
            },
            {
                "name": "empty",
                "expr": "",
                "before": 0.0,
                "during": 0.0,
                "after": 0.0,
                "held_before": False,
                "held_during": False,
                "held_after": False,
            },
        ],
    },
    "host": [
        {
            "host_id": "web-1",
            "hostname": "w1",
            "address": "10.0.0.1:7100",
            "state": "up",
            "labels": {"role": "web", "zone": "a"},
            "last_heartbeat": "2023-11-14T22:13:20Z",
            "last_heartbeat_ms": 1700000000000,
            "registered_at": "2023-11-14T22:13:19Z",
            "agent_version": "0.1.0",
            "cert_days_left": 12,
        },
        {
            "host_id": "web-2",
            "hostname": "",
            "address": "",
            "state": "down",
            "labels": {},
            "last_heartbeat": "",
            "last_heartbeat_ms": 0,
            "registered_at": "",
            "agent_version": "",
            "cert_days_left": None,
        },
        {
            "host_id": "web-3",
            "hostname": "",
            "address": "",
            "state": "",
            "labels": {},
            "last_heartbeat": "",
            "last_heartbeat_ms": 0,
            "registered_at": "",
            "agent_version": "",
            "cert_days_left": 0,
        },
    ],
    "incident": [
        {
            "id": 7,
            "priority": "P2",
            "state": "acknowledged",
            "title": "hello is down",
            "dedup_key": "k",
            "service": "hello",
            "host": "web-1",
            "opened_at": "2023-11-14T22:13:20Z",
            "acknowledged_at": "2023-11-14T22:14:20Z",
            "acknowledged_by": "alice",
            "resolved_at": None,
            "closed_at": None,
            "manual_resolve": True,
            "alerts": [{"alertname": "Down", "host": "web-1"}],
            "timeline": [
                {"time": "2023-11-14T22:13:20Z", "kind": "alert.firing", "actor": "controller", "message": "m"},
                {"time": "", "kind": "", "actor": "", "message": ""},
            ],
        },
        {
            "id": 8,
            "priority": "",
            "state": "",
            "title": "",
            "dedup_key": "",
            "service": "",
            "host": "",
            "opened_at": None,
            "acknowledged_at": None,
            "acknowledged_by": "",
            "resolved_at": None,
            "closed_at": None,
            "manual_resolve": False,
            "alerts": [],
            "timeline": [],
        },
    ],
    "query": [
        {"resultType": "vector", "result": [{"metric": {"__name__": "up", "host": "web-1"}, "value": [1.5, "1"]}]},
        {"resultType": "matrix", "result": [{"metric": {"a": "b"}, "values": [[1.0, "NaN"], [2.0, "+Inf"]]}]},
        {"resultType": "scalar", "result": [3.0, "2.5"]},
    ],
    "rollout": [
        {
            "id": 3,
            "service": "hello",
            "version": "2",
            "from_version": "1",
            "state": "running",
            "message": "batch 2",
            "batches": 2,
            "current_batch": 2,
            "strategy": "canary",
            "created": "2023-11-14T22:13:20Z",
            "finished": None,
            "created_by": "alice",
            "hosts": [
                {"host": "web-1", "batch": 1, "state": "healthy", "from_version": "1", "message": "ok"},
                {"host": "web-3", "batch": None, "state": "skipped", "from_version": "", "message": "down"},
            ],
            "analysis": [
                {"name": "errors", "expr": "rate(e[1m]) > 0", "verdict": "pass", "value": 0.0},
                {"name": "nan", "expr": "", "verdict": "inconclusive", "value": NAN},
            ],
        },
        {
            "id": 4,
            "service": "",
            "version": "",
            "from_version": "",
            "state": "",
            "message": "",
            "batches": 0,
            "current_batch": 0,
            "strategy": "",
            "created": "",
            "finished": "2023-11-14T22:13:20Z",
            "created_by": "",
            "hosts": [],
            "analysis": [],
        },
    ],
    "status": [
        {
            "active_slot": "blue",
            "active_version": "2",
            "previous_version": "1",
            "phase": "idle",
            "slots": [
                {
                    "slot": "blue",
                    "state": "healthy",
                    "version": "2",
                    "port": 18081,
                    "pid": 42,
                    "restarts": 1,
                    "rss_bytes": 123456789012,
                    "connections": 3,
                },
                {
                    "slot": "green",
                    "state": "-",
                    "version": "",
                    "port": 0,
                    "pid": 0,
                    "restarts": 0,
                    "rss_bytes": 0,
                    "connections": 0,
                },
            ],
        },
        {"active_slot": "-", "active_version": "", "previous_version": "", "phase": "", "slots": []},
    ],
    "silence": [
        {
            "id": "s-1",
            "matchers": ["alertname=~Foo.*"],
            "startsAt": "2023-11-14T22:13:20Z",
            "endsAt": "2023-11-14T23:13:20Z",
            "createdBy": "bob",
            "comment": "why",
            "state": "active",
        },
        {"id": "", "matchers": [], "startsAt": "", "endsAt": "", "createdBy": "", "comment": "", "state": ""},
    ],
    "slo": SLO_DOCS,
    "report": [
        {
            **SLO_DOCS[0],
            "worst_windows": [
                {"window": "2026-11-23T06:00Z", "error_ratio": 0.01, "burn_rate": 10.0},
                {"window": "", "error_ratio": 0.0, "burn_rate": 0.0},
            ],
            "violations": [
                {
                    "start": "2023-11-14T22:13:20Z",
                    "end": "2023-11-14T22:23:20Z",
                    "duration_seconds": 600.0,
                    "alert": "ShopErrorBudgetBurn",
                },
                {"start": "", "end": "", "duration_seconds": 0.0, "alert": ""},
            ],
        }
    ],
}


DOCUMENTS: dict[str, Callable[[], Any]] = {
    "fault": lambda: [chaos.doc(f) for f in (FAULT, REVERTED)],
    "drill": lambda: drill.doc(DRILL),
    "host": lambda: [fleet.host_doc(h) for h in HOSTS],
    "incident": lambda: [incidents.doc(i) for i in INCIDENTS],
    "query": lambda: [query.api_doc(q) for q in QUERIES],
    "rollout": lambda: [rollout.doc(r) for r in ROLLOUTS],
    "status": lambda: [services.status_doc(s) for s in STATUS],
    "silence": lambda: [silence._doc(s) for s in SILENCES],
    "slo": lambda: [slo.summary_doc(s) for s in SLOS],
    "report": lambda: [slo.report_doc(e) for e in REPORTS],
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_json_documents_keep_their_fields_names_values_and_order(name: str) -> None:
    # compared as the text `-o json` prints, so key order and number types count
    assert json.dumps(DOCUMENTS[name](), indent=2) == json.dumps(EXPECTED[name], indent=2)


def test_message_doc_keeps_numbers_and_nests_messages_and_refuses_a_value_for_no_field() -> None:
    from switchman.cli.render import message_doc

    series = ops_pb2.SeriesResult(metric={"a": "b"}, points=[common_pb2.Point(timestamp_ms=T, value=NAN)])
    doc = message_doc(series)
    assert json.dumps(doc) == json.dumps({"metric": {"a": "b"}, "points": [{"timestamp_ms": T, "value": NAN}]})
    with pytest.raises(TypeError, match="'nmae'"):
        message_doc(ops_pb2.Matcher(name="a"), nmae="b")
