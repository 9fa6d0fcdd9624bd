"""``switchman status``, ``switchman hosts``, ``switchman hosts show ID``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from switchman.cli.commands.slo import budget_line, summary_doc
from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Markup, Output, ago, bar, esc, fmt_value, human_bytes, iso

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="one-screen fleet view")
    p.set_defaults(func=status)
    h = sub.add_parser("hosts", help="list hosts, or show one")
    h.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    h.add_argument("host_id", nargs="?", help="host id (for show)")
    h.add_argument("--selector", "-l", action="append", default=[], metavar="K=V", help="only hosts with these labels")
    h.add_argument("--state", choices=["up", "down"], help="only hosts in this state")
    h.set_defaults(func=hosts)


def host_doc(h: ops_pb2.HostSummary) -> dict[str, Any]:
    return {
        "host_id": h.host_id,
        "hostname": h.hostname,
        "address": h.address,
        "state": h.state,
        "labels": dict(sorted(h.labels.items())),
        "last_heartbeat": iso(h.last_heartbeat_ms),
        "last_heartbeat_ms": h.last_heartbeat_ms,
        "registered_at": iso(h.registered_at_ms),
        "agent_version": h.agent_version,
        "cert_days_left": h.cert_days_left if h.cert_days_left >= 0 else None,
    }


def status(args: argparse.Namespace, client: Client, out: Output) -> int:
    st: ops_pb2.FleetStatus = client.call(client.ops.GetStatus, ops_pb2.GetStatusRequest())
    doc = {
        "server_time": iso(st.server_time_ms),
        "controller": {"version": st.controller_version, "health": st.controller_health, "features": list(st.features)},
        "hosts": {"total": st.hosts_total, "up": st.hosts_up, "down": st.hosts_down},
        "down_hosts": [host_doc(h) for h in st.down_hosts],
        "telemetry": {
            "series": st.series_total,
            "samples_ingested": st.samples_total,
            "ingest_samples_per_s": round(st.ingest_samples_per_s, 1),
            "db_bytes": st.db_bytes,
        },
        "firing_alerts": {c.key: c.count for c in st.firing_alerts},
        "open_incidents": {c.key: c.count for c in st.open_incidents},
        "slos": [summary_doc(s) for s in st.slos],
        "faults": [
            {
                "id": f.id,
                "host": f.host_id,
                "kind": f.spec.kind,
                "service": f.spec.service,
                "expires": iso(f.expires_at_ms),
            }
            for f in st.active_faults
        ],
        "rollouts": [
            {"id": r.id, "service": r.service, "version": r.version, "state": r.state, "message": r.message}
            for r in st.active_rollouts
        ],
    }
    if out.fmt != "table":
        out.document(doc)
        return EXIT_OK
    up_share = st.hosts_up / st.hosts_total if st.hosts_total else 0.0
    colour = "green" if st.hosts_down == 0 else "red" if st.hosts_up == 0 else "yellow"
    out.line(
        f"[bold]Switchman[/bold] controller {st.controller_version} · {st.controller_health} · {iso(st.server_time_ms)}"
    )
    out.line()
    out.line(
        f"[bold]Hosts[/bold]   [{colour}]{bar(up_share)}[/{colour}]  {st.hosts_up}/{st.hosts_total} up, {st.hosts_down} down"
    )
    now = st.server_time_ms
    for h in st.down_hosts:
        out.line(f"  [red]down[/red] {h.host_id} ({h.address}), last heartbeat {ago(h.last_heartbeat_ms, now)}")
    out.line(
        f"[bold]Telemetry[/bold]  {st.series_total} series · {st.ingest_samples_per_s:.0f} samples/s · "
        f"{st.samples_total} ingested since start · database {human_bytes(st.db_bytes)}"
    )
    firing = ", ".join(f"{c.count} {c.key}" for c in st.firing_alerts)
    out.line("[bold]Alerts[/bold]  " + (f"[red]{firing} firing[/red]" if firing else "[green]none firing[/green]"))
    for r in st.active_rollouts:
        live = [h for h in r.hosts if h.state != "skipped"]
        done = sum(h.state == "healthy" for h in live)
        out.line(
            f"[bold]Rollout {r.id}[/bold]  {r.service} → {r.version} {r.state}  "
            f"{bar(done / max(len(live), 1), 10)} {done}/{len(live)}  {r.message}"
        )
    if st.open_incidents:
        counts = ", ".join(f"{c.count} {c.key}" for c in st.open_incidents)
        out.line(f"[bold]Incidents[/bold]  [red]{counts} open[/red]  (switchman incidents list)")
    for s in st.slos:
        out.line(f"[bold]SLO[/bold]  {budget_line(s)}")
    for f in st.active_faults:
        left = max(0, (f.expires_at_ms - now) // 1000)
        target = f" on {f.spec.service}" if f.spec.service else ""
        out.line(f"[bold]Fault[/bold]  [magenta]{f.spec.kind}[/magenta]{target} at {f.host_id}, {left}s left ({f.id})")
    missing = [f for f in ("alerts", "incidents", "slos", "rollouts", "faults") if f not in st.features]
    if missing:
        out.line(f"[dim]Not in this controller version: {', '.join(missing)}[/dim]")
    return EXIT_OK


def parse_selector(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise CliError(f"{p!r}: expected K=V", EXIT_USAGE)
        out[k] = v
    return out


def hosts(args: argparse.Namespace, client: Client, out: Output) -> int:
    if args.action == "show" or args.host_id:
        if not args.host_id:
            raise CliError("hosts show needs a HOST_ID", EXIT_USAGE)
        return show_host(args.host_id, client, out)
    resp = client.call(
        client.ops.ListHosts, ops_pb2.ListHostsRequest(selector=parse_selector(args.selector), state=args.state or "")
    )
    if out.fmt != "table":
        out.document([host_doc(h) for h in resp.hosts])
        return EXIT_OK
    now = int(time.time() * 1000)
    rows = []
    for h in resp.hosts:
        state = "[green]up[/green]" if h.state == "up" else "[red]down[/red]"
        labels = ",".join(f"{k}={v}" for k, v in sorted(h.labels.items()))
        cert = "-" if h.cert_days_left < 0 else f"{h.cert_days_left}d"
        if 0 <= h.cert_days_left < 30:
            cert = f"[{'red' if h.cert_days_left == 0 else 'yellow'}]{cert}[/]"
        rows.append(
            [h.host_id, Markup(state), h.address, labels, ago(h.last_heartbeat_ms, now), Markup(cert), h.agent_version]
        )
    out.table(["HOST", "STATE", "ADDRESS", "LABELS", "HEARTBEAT", "CERT", "VERSION"], rows)
    renew = [h.host_id for h in resp.hosts if 0 <= h.cert_days_left < 30]
    if renew:
        out.line(
            f"[yellow]certificates expiring within 30 days: {', '.join(renew)}[/yellow] "
            "(renew: switchman certs issue --dir PKI_DIR agent HOST, then restart that agent)"
        )
    return EXIT_OK


def show_host(host_id: str, client: Client, out: Output) -> int:
    d: ops_pb2.HostDetail = client.call(client.ops.GetHost, ops_pb2.GetHostRequest(host_id=host_id))
    doc = host_doc(d.host) | {
        "series": d.series_count,
        "last_push": iso(d.last_push_ms),
        "acked_sequence": d.acked_sequence,
        "spool_epoch": d.spool_epoch,
        "vitals": dict(sorted(d.vitals.items())),
    }
    if out.fmt != "table":
        out.document(doc)
        return EXIT_OK
    now = int(time.time() * 1000)
    h = d.host
    out.line(
        f"[bold]{esc(h.host_id)}[/bold] ({esc(h.hostname)}) {h.state} · {esc(h.address)} · agent {esc(h.agent_version)}"
    )
    out.line(f"labels: {esc(', '.join(f'{k}={v}' for k, v in sorted(h.labels.items())) or '-')}")
    out.line(
        f"heartbeat {ago(h.last_heartbeat_ms, now)} · last push {ago(d.last_push_ms, now)} · {d.series_count} series"
    )
    out.line(f"acked sequence {d.acked_sequence} (spool epoch {d.spool_epoch[:8]})")
    for k, v in sorted(d.vitals.items()):
        out.line(f"  {esc(k)} = {fmt_value(v)}")
    return EXIT_OK
