"""``switchman slo check|list|report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchman.cli.errors import EXIT_FAILED, EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, bar, iso, message_doc

if TYPE_CHECKING:
    from switchman.cli.client import Client

NO_SLOS = (
    "no SLOs are loaded: add slo_files (or --slo-file) to the controller's config "
    "and reload it (SIGHUP); see docs/slos.md"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("slo", help="SLOs: check files, list budgets, SLA reports")
    s = p.add_subparsers(dest="slo_cmd", metavar="check|list|report")
    c = s.add_parser("check", help="validate SLO files (Sloth prometheus/v1); no controller needed")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=check, local=True)
    ls = s.add_parser("list", help="every SLO with its windows and budget left")
    ls.set_defaults(func=list_slos)
    r = s.add_parser("report", help="SLA report: objective, attained, budget, worst hours, violations")
    r.add_argument("--period", default="", help="default: the controller's slo_period (30d)")
    r.add_argument("--service", default="")
    r.set_defaults(func=report)


def check(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.controller.slo.spec import SLOSpecError, parse_slo_file  # the parser ships with the controller

    failed = False
    for f in args.files:
        try:
            slos = parse_slo_file(f.read_text(), str(f))
        except OSError as exc:
            out.line(f"{f}: cannot read: {exc.strerror or exc}")
            failed = True
            continue
        except SLOSpecError as exc:
            for line in str(exc).splitlines():
                out.line(line)
            failed = True
            continue
        out.line(f"{f}: {len(slos)} SLO(s) OK")
    return EXIT_FAILED if failed else EXIT_OK


def _pct(v: float) -> str:
    return f"{v:.3f}%"


def summary_doc(s: ops_pb2.SLOSummary) -> dict[str, Any]:
    return {
        "service": s.service,
        "slo": s.name,
        "objective": s.objective,
        "period": s.period,
        "attained": None if s.insufficient_data else round(s.attained, 5),
        "budget_remaining": None if s.insufficient_data else round(s.budget_remaining, 5),
        "insufficient_data": s.insufficient_data,
        "windows": {
            w.window: None if w.insufficient_data else message_doc(w, drop={"window", "insufficient_data"})
            for w in s.windows
        },
    }


def report_doc(e: ops_pb2.SLOReportEntry) -> dict[str, Any]:
    """An SLO's summary with its worst hours and its violations."""
    return {
        **summary_doc(e.slo),
        "worst_windows": [message_doc(w, drop={"events", "insufficient_data"}) for w in e.worst_windows],
        "violations": [
            message_doc(v, rename={"start_ms": "start", "end_ms": "end"}, start=iso(v.start_ms), end=iso(v.end_ms))
            for v in e.violations
        ],
    }


def budget_line(s: ops_pb2.SLOSummary) -> str:
    if s.insufficient_data:
        return f"{s.service}/{s.name}  objective {s.objective:g}%  [dim]insufficient data[/dim]"
    colour = "green" if s.budget_remaining > 0.5 else "yellow" if s.budget_remaining > 0 else "red"
    return (
        f"{s.service}/{s.name}  objective {s.objective:g}%  attained {_pct(s.attained)}  "
        f"budget [{colour}]{bar(max(s.budget_remaining, 0.0), 16)}[/{colour}] {s.budget_remaining * 100:.1f}% left ({s.period})"
    )


def list_slos(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.ListSLOs, ops_pb2.ListSLOsRequest())
    if out.fmt != "table":
        out.document([summary_doc(s) for s in r.slos])
        return EXIT_OK
    for s in r.slos:
        out.line(budget_line(s))
        cells = " ".join(f"{w.window}:{'-' if w.insufficient_data else f'{w.burn_rate:.2f}x'}" for w in s.windows)
        out.line(f"  burn rate by window: {cells}")
    if not r.slos:
        out.line(f"[dim]{NO_SLOS}[/dim]")
    return EXIT_OK


def report(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.SLOReport, ops_pb2.SLOReportRequest(period=args.period, service=args.service))
    if out.fmt != "table":
        out.document([report_doc(e) for e in r.entries])
        return EXIT_OK
    if not r.entries:
        what = (
            f"no SLOs for service {args.service!r} (`switchman slo list` shows every SLO)" if args.service else NO_SLOS
        )
        out.line(f"[dim]{what}[/dim]")
    for e in r.entries:
        out.line(f"[bold]{budget_line(e.slo)}[/bold]")
        for w in e.worst_windows:
            out.line(f"  worst: {w.window}: error ratio {w.error_ratio:.4f} (burn {w.burn_rate:.1f}x)")
        for v in e.violations:
            out.line(f"  violation: {iso(v.start_ms)} → {iso(v.end_ms)} ({v.duration_seconds:.0f}s, {v.alert})")
        if not e.violations:
            out.line("  no violations in the period")
    return EXIT_OK
