"""Drills as Ops messages and as reports (Markdown for people, JSON for tools)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from switchman.controller.chaos.journal import Journal, value_text
from switchman.controller.timefmt import utc as _t
from switchman.proto.v1 import common_pb2, ops_pb2


def drill_message(j: Journal) -> ops_pb2.Drill:
    return ops_pb2.Drill(
        id=j.id,
        title=j.title,
        state=j.state,
        targets=j.targets,
        faults=[
            common_pb2.Fault(
                id=f.id,
                spec=common_pb2.FaultSpec(
                    kind=f.kind, service=f.service, params=f.params, duration_ms=f.expires_ms - f.applied_ms
                ),
                state=common_pb2.FAULT_STATE_REVERTED if f.reverted_ms else common_pb2.FAULT_STATE_ACTIVE,
                applied_at_ms=f.applied_ms,
                expires_at_ms=f.expires_ms,
                reverted_at_ms=f.reverted_ms,
                host_id=f.host_id,
                error=f.error,
            )
            for f in j.faults
        ],
        probes=[
            ops_pb2.DrillProbe(
                name=p.name,
                expr=p.expr,
                before=p.before,  # NaN: the condition had no data (the CLI says so, as the report does)
                during=p.during,
                after=p.after,
                held_before=p.held_before,
                held_during=p.held_during,
                held_after=p.held_after,
            )
            for p in j.probes
        ],
        started_at_ms=j.started_ms,
        finished_at_ms=j.finished_ms,
        time_to_detect_seconds=j.time_to_detect_s(),
        time_to_recover_seconds=j.time_to_recover_s(),
        reason=j.reason,
        dry_run=j.dry_run,
        source_yaml=j.source,
    )


def markdown(j: Journal) -> str:
    lines = [
        f"# Drill {j.id}: {j.title}",
        "",
        j.description or "",
        "",
        f"* **Result:** {j.state} — {j.reason}",
        f"* **Started:** {_t(j.started_ms)} by {j.started_by or 'unknown'}; finished {_t(j.finished_ms)}",
        f"* **Targets:** {', '.join(j.targets) or '-'}" + (" (dry run: nothing injected)" if j.dry_run else ""),
        f"* **Time to detect:** {f'{j.time_to_detect_s():.1f}s ({j.detected_by})' if j.detected_ms else 'not detected by an alert'}",
        f"* **Time to recover:** {f'{j.time_to_recover_s():.1f}s' if j.recovered_ms else 'did not recover' if j.reverted_ms else '-'}",
        "",
        "## Steady state",
        "",
        "| condition | before | during | after |",
        "|---|---|---|---|",
    ]
    for p in j.probes:
        mark = {True: "held", False: "**broke**"}
        lines.append(
            f"| `{p.name}` | {value_text(p.before)} ({mark[p.held_before]}) | {value_text(p.during)} ({mark[p.held_during]}) "
            f"| {value_text(p.after)} ({mark[p.held_after]}) |"
        )
    lines += [
        "",
        "## Faults",
        "",
        "| id | host | fault | service | params | applied | reverted |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in j.faults:
        params = " ".join(f"{k}={v}" for k, v in sorted(f.params.items())) or "-"
        lines.append(
            f"| {f.id} | {f.host_id} | {f.kind} | {f.service or '-'} | {params} | {_t(f.applied_ms)} | {_t(f.reverted_ms)} {f.error} |"
        )
    lines += ["", "## Timeline", ""]
    lines += [f"* {_t(ts)} — {msg}" for ts, msg in j.timeline]
    return "\n".join(lines) + "\n"


def as_json(j: Journal) -> str:
    doc = asdict(j)
    doc["time_to_detect_seconds"] = j.time_to_detect_s()
    doc["time_to_recover_seconds"] = j.time_to_recover_s()
    for p in doc["probes"]:
        for k in ("before", "during", "after"):
            p[k] = None if math.isnan(p[k]) else p[k]
    return json.dumps(doc, indent=2, sort_keys=True)
