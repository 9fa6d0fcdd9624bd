"""``switchman alerts [--state pending|firing] [-l K=V]...``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from switchman.cli.commands.fleet import parse_selector
from switchman.cli.errors import EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Markup, Output, ago, fmt_value, iso

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("alerts", help="pending and firing alerts")
    p.add_argument("--state", choices=["pending", "firing"])
    p.add_argument("--match", "-l", action="append", default=[], metavar="K=V", help="only alerts with these labels")
    p.set_defaults(func=alerts)


def alerts(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(
        client.ops.ListAlerts, ops_pb2.ListAlertsRequest(state=args.state or "", matchers=parse_selector(args.match))
    )
    if out.fmt != "table":
        out.document(
            [
                {
                    "labels": dict(sorted(a.labels.items())),
                    "annotations": dict(sorted(a.annotations.items())),
                    "state": a.state,
                    "activeAt": iso(a.active_at_ms),
                    "value": fmt_value(a.value),
                    "silenced": a.silenced,
                    "inhibited": a.inhibited,
                }
                for a in r.alerts
            ]
        )
        return EXIT_OK
    now = int(time.time() * 1000)
    rows = []
    for a in r.alerts:
        state = "[red]firing[/red]" if a.state == "firing" else "[yellow]pending[/yellow]"
        if a.silenced or a.inhibited:
            state += " [dim](" + ("silenced" if a.silenced else "inhibited") + ")[/dim]"
        labels = ",".join(f"{k}={v}" for k, v in sorted(a.labels.items()) if k != "alertname")
        rows.append(
            [a.labels.get("alertname", ""), Markup(state), labels, ago(a.active_at_ms, now), fmt_value(a.value)]
        )
    out.table(["ALERT", "STATE", "LABELS", "ACTIVE SINCE", "VALUE"], rows)
    if not rows:
        out.line("[dim]no pending or firing alerts[/dim]")
    return EXIT_OK
