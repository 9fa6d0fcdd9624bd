"""``switchman incidents list|show|ack|resolve|note|close|report|postmortem``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchman.cli.errors import EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Markup, Output, ago, esc, iso, when
from switchman.proto.durations import parse_duration_ms

if TYPE_CHECKING:
    from switchman.cli.client import Client

COLOUR = {"triggered": "red", "acknowledged": "yellow", "resolved": "green", "closed": "dim"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("incidents", help="incidents opened by paging alerts: ack, resolve, notes, reports")
    s = p.add_subparsers(dest="incidents_cmd", metavar="list|show|ack|resolve|note|close|report|postmortem")
    p.set_defaults(func=list_incidents, all=False, state=None)  # `switchman incidents` lists, as `hosts` does
    ls = s.add_parser("list", help="open incidents (or --all); the default")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--state", choices=["triggered", "acknowledged", "resolved", "closed"])
    ls.set_defaults(func=list_incidents)
    sh = s.add_parser("show", help="an incident with its timeline")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=show)
    for name, what in (
        ("ack", "acknowledge: stops re-notification"),
        ("resolve", "resolve by hand"),
        ("close", "close a resolved incident (after its postmortem)"),
    ):
        c = s.add_parser(name, help=what)
        c.add_argument("id", type=int)
        c.add_argument("--note", default="")
        if name == "ack":
            c.add_argument("--manual", action="store_true", help="do not resolve by itself when its alerts resolve")
        c.set_defaults(func=act, action=name)
    n = s.add_parser("note", help="add a note to the timeline")
    n.add_argument("id", type=int)
    n.add_argument("text")
    n.add_argument("--manual", action="store_true", help="do not resolve by itself when its alerts resolve")
    n.set_defaults(func=act, action="note")
    r = s.add_parser("report", help="MTTA and MTTR per priority and per service")
    r.add_argument("--since", default="30d", help="how far back (default 30d)")
    r.set_defaults(func=report)
    pm = s.add_parser("postmortem", help="a Markdown postmortem skeleton: timeline, impact (SLO budget), questions")
    pm.add_argument("id", type=int)
    pm.add_argument("--file", "-f", type=Path, help="write to this file instead of stdout")
    pm.set_defaults(func=postmortem)


def doc(i: ops_pb2.Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "priority": i.priority,
        "state": i.state,
        "title": i.title,
        "dedup_key": i.dedup_key,
        "service": i.service,
        "host": i.host_id,
        "opened_at": when(i.opened_at_ms),
        "acknowledged_at": when(i.acknowledged_at_ms),
        "acknowledged_by": i.acknowledged_by,
        "resolved_at": when(i.resolved_at_ms),
        "closed_at": when(i.closed_at_ms),
        "manual_resolve": i.manual_resolve,
        "alerts": [dict(sorted(a.labels.items())) for a in i.alerts],
        "timeline": [
            {"time": iso(e.timestamp_ms), "kind": e.kind, "actor": e.actor, "message": e.message} for e in i.timeline
        ],
    }


def list_incidents(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.ListIncidents, ops_pb2.ListIncidentsRequest(state=args.state or "", all=args.all))
    if out.fmt != "table":
        out.document([doc(i) for i in r.incidents])
        return EXIT_OK
    now = int(time.time() * 1000)
    rows = [
        [
            str(i.id),
            i.priority,
            Markup(f"[{COLOUR.get(i.state, 'white')}]{i.state}[/{COLOUR.get(i.state, 'white')}]"),
            i.title[:60],
            i.service or i.host_id,
            ago(i.opened_at_ms, now),
        ]
        for i in r.incidents
    ]
    out.table(["ID", "PRI", "STATE", "TITLE", "SERVICE/HOST", "OPENED"], rows)
    if not rows:
        out.line("[dim]no open incidents[/dim]")
    return EXIT_OK


def show(args: argparse.Namespace, client: Client, out: Output) -> int:
    i = client.call(client.ops.GetIncident, ops_pb2.GetIncidentRequest(id=args.id))
    if out.fmt != "table":
        out.document(doc(i))
        return EXIT_OK
    out.line(f"[bold]incident {i.id}[/bold] {i.priority} [{COLOUR.get(i.state, 'white')}]{i.state}[/] {esc(i.title)}")
    out.line(
        f"  key {i.dedup_key}; opened {iso(i.opened_at_ms)}"
        + (f"; acknowledged by {i.acknowledged_by}" if i.acknowledged_by else "")
    )
    for e in i.timeline:
        out.line(f"  {iso(e.timestamp_ms)}  {e.kind:<16} {esc(e.actor):<12} {esc(e.message)}")
    return EXIT_OK


def act(args: argparse.Namespace, client: Client, out: Output) -> int:
    method = {
        "ack": client.ops.AckIncident,
        "resolve": client.ops.ResolveIncident,
        "close": client.ops.CloseIncident,
        "note": client.ops.AddIncidentNote,
    }[args.action]
    note = getattr(args, "text", "") or getattr(args, "note", "")
    i = client.call(method, ops_pb2.IncidentActionRequest(id=args.id, note=note, manual=getattr(args, "manual", False)))
    out.line(f"incident {i.id}: {i.state}") if out.fmt == "table" else out.document(doc(i))
    return EXIT_OK


def mtt_doc(m: ops_pb2.MttStat) -> dict[str, Any]:
    """MTTA over the acknowledged incidents, MTTR over the resolved ones; null when there are none."""
    return {
        "incidents": m.incidents,
        "acknowledged": m.acknowledged,
        "resolved": m.resolved,
        "mtta_seconds": m.mtta_seconds if m.acknowledged else None,
        "mttr_seconds": m.mttr_seconds if m.resolved else None,
    }


def mtt_row(m: ops_pb2.MttStat) -> list[str]:
    """A table row: ``-`` where no incident was acknowledged (or resolved), never ``0s``."""
    return [
        m.key,
        str(m.incidents),
        f"{m.mtta_seconds:.0f}s" if m.acknowledged else "-",
        f"{m.mttr_seconds:.0f}s" if m.resolved else "-",
    ]


def report(args: argparse.Namespace, client: Client, out: Output) -> int:
    since = int(time.time() * 1000) - parse_duration_ms(args.since)
    r = client.call(client.ops.IncidentReport, ops_pb2.IncidentReportRequest(since_ms=since))
    stats = {
        "by_priority": [{"priority": m.key, **mtt_doc(m)} for m in r.by_priority],
        "by_service": [{"service": m.key, **mtt_doc(m)} for m in r.by_service],
    }
    if out.fmt != "table":
        out.document(stats)
        return EXIT_OK
    for title, rows, key in (("By priority", r.by_priority, "PRIORITY"), ("By service", r.by_service, "SERVICE")):
        out.table([key, "INCIDENTS", "MTTA", "MTTR"], [mtt_row(m) for m in rows], title=title)
    return EXIT_OK


def postmortem(args: argparse.Namespace, client: Client, out: Output) -> int:
    d = client.call(client.ops.IncidentPostmortem, ops_pb2.GetIncidentRequest(id=args.id))
    if args.file:
        args.file.write_text(d.content)
        out.line(f"wrote {args.file}")
    else:
        print(d.content, end="")
    return EXIT_OK
