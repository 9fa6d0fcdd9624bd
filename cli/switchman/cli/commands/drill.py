"""``switchman drill run|list|status|report``."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchman.cli.commands.chaos import doc as fault_doc
from switchman.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, esc, iso, message_doc, when

if TYPE_CHECKING:
    from switchman.cli.client import Client

TERMINAL = {"completed", "deviated", "aborted", "failed"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("drill", help="chaos drills: steady state, faults, abort conditions, journal")
    s = p.add_subparsers(dest="drill_cmd", metavar="run|list|status|report")
    r = s.add_parser("run", help="run a drill file (YAML, docs/drills.md)")
    r.add_argument("file", type=Path)
    r.add_argument("--dry-run", action="store_true", help="check the steady state and targets; inject nothing")
    r.add_argument("--force", action="store_true", help="even while a rollout of a targeted service is in progress")
    r.add_argument("--wait", action="store_true", help="wait for the end; exit 0 when completed, 1 otherwise")
    r.set_defaults(func=run)
    ls = s.add_parser("list", help="recent drills")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(func=list_drills)
    st = s.add_parser("status", help="one drill's state, targets, faults and steady-state values")
    st.add_argument("id", type=int)
    st.set_defaults(func=status)
    rep = s.add_parser("report", help="the drill's journal as Markdown (default) or JSON")
    rep.add_argument("id", type=int)
    rep.add_argument("--format", choices=["markdown", "json"], default="markdown")
    rep.set_defaults(func=report)


def _number(v: float) -> float | None:
    """NaN (the condition had no data) is null in JSON, as in `drill report --format json`."""
    return None if math.isnan(v) else v


def _value(v: float, held: bool) -> str:
    """As `drill report` shows a condition: its value ("no data" for NaN) and whether it held."""
    return ("no data" if math.isnan(v) else f"{v:g}") + ("" if held else " [red](broke)[/red]")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def doc(d: ops_pb2.Drill) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "state": d.state,
        "reason": d.reason,
        "dry_run": d.dry_run,
        "targets": list(d.targets),
        "started": iso(d.started_at_ms),
        "finished": when(d.finished_at_ms),
        "time_to_detect_seconds": round(d.time_to_detect_seconds, 3),
        "time_to_recover_seconds": round(d.time_to_recover_seconds, 3),
        "faults": [fault_doc(f) for f in d.faults],
        "steady_state": [
            message_doc(p, before=_number(p.before), during=_number(p.during), after=_number(p.after)) for p in d.probes
        ],
    }


def run(args: argparse.Namespace, client: Client, out: Output) -> int:
    try:
        text = args.file.read_text()
    except OSError as exc:
        raise CliError(f"{args.file}: cannot read: {exc.strerror or exc}", EXIT_USAGE) from None
    d = client.call(
        client.ops.RunDrill,
        ops_pb2.RunDrillRequest(source_yaml=text, file_name=str(args.file), force=args.force, dry_run=args.dry_run),
    )
    if not args.wait:
        out.line(
            f"drill {d.id} started: {d.title} (switchman drill status {d.id})"
        ) if out.fmt == "table" else out.document(doc(d))
        return EXIT_OK
    shown = ""
    while d.state not in TERMINAL:
        if d.state != shown and out.fmt == "table":
            out.line(f"drill {d.id}: {d.state}" + (f" on {', '.join(d.targets)}" if d.targets else ""))
            shown = d.state
        time.sleep(1.0)
        d = client.call(client.ops.GetDrill, ops_pb2.GetDrillRequest(id=d.id))
    out.line(f"drill {d.id}: {d.state}: {esc(d.reason)}") if out.fmt == "table" else out.document(doc(d))
    return EXIT_OK if d.state == "completed" else EXIT_FAILED


def list_drills(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.ListDrills, ops_pb2.ListDrillsRequest(limit=args.limit))
    if out.fmt != "table":
        out.document([doc(d) for d in r.drills])
        return EXIT_OK
    rows = [
        [str(d.id), d.title, d.state, ", ".join(d.targets), iso(d.started_at_ms), _clip(d.reason, 70)] for d in r.drills
    ]
    out.table(["ID", "TITLE", "STATE", "TARGETS", "STARTED", "REASON"], rows)
    if not rows:
        out.line("[dim]no drills yet[/dim]")
    return EXIT_OK


def status(args: argparse.Namespace, client: Client, out: Output) -> int:
    d = client.call(client.ops.GetDrill, ops_pb2.GetDrillRequest(id=args.id))
    if out.fmt != "table":
        out.document(doc(d))
        return EXIT_OK
    out.line(f"[bold]drill {d.id}[/bold] {esc(d.title)}: [bold]{d.state}[/bold]  {esc(d.reason)}")
    out.line(
        f"  targets: {', '.join(d.targets) or '-'}; detect {d.time_to_detect_seconds:.1f}s, recover {d.time_to_recover_seconds:.1f}s"
    )
    for p in d.probes:
        out.line(
            f"  {p.name}: before {_value(p.before, p.held_before)}, during {_value(p.during, p.held_during)},"
            f" after {_value(p.after, p.held_after)}"
        )
    for f in d.faults:
        out.line(f"  fault {f.id} {f.spec.kind} on {f.host_id}" + (f" ({f.spec.service})" if f.spec.service else ""))
    return EXIT_OK


def report(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.DrillReport, ops_pb2.DrillReportRequest(id=args.id, format=args.format))
    print(r.content, end="")
    return EXIT_OK
