"""``switchman service apply|show|list|switch|rollback`` (``stop|remove``: :mod:`.service_lifecycle`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchman.cli.commands import service_lifecycle
from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import common_pb2, enum_word, ops_pb2
from switchman.cli.render import Output, esc, message_doc

if TYPE_CHECKING:
    from switchman.cli.client import Client


def slot(value: int) -> str:
    """``blue``, ``green`` or ``-``."""
    return enum_word(common_pb2.Slot, value)


def slot_state(value: int) -> str:
    """``healthy``, ``unhealthy``, ``starting``, ``stopped``, ``failed``, ``draining`` or ``-``."""
    return enum_word(common_pb2.SlotState, value)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("service", help="service specs and single-host switches")
    s = p.add_subparsers(dest="service_cmd", metavar="apply|show|list|switch|rollback|stop|remove")
    a = s.add_parser("apply", help="store a new revision of a service spec (TOML)")
    a.add_argument("file", type=Path)
    a.set_defaults(func=apply)
    sh = s.add_parser("show", help="a service's spec and its slots on every host")
    sh.add_argument("name")
    sh.add_argument("--history", action="store_true", help="every revision")
    sh.set_defaults(func=show)
    ls = s.add_parser("list", help="services and their latest revision")
    ls.set_defaults(func=list_services)
    sw = s.add_parser("switch", help="switch one host to a version (blue-green on that host)")
    sw.add_argument("name")
    sw.add_argument("--host", required=True)
    sw.add_argument("--version", required=True)
    sw.set_defaults(func=switch)
    rb = s.add_parser("rollback", help="flip one host back to its previous slot")
    rb.add_argument("name")
    rb.add_argument("--host", required=True)
    rb.set_defaults(func=rollback)
    service_lifecycle.register(s)


def status_doc(st: common_pb2.ServiceStatus) -> dict[str, Any]:
    return {
        "active_slot": slot(st.active_slot),
        "active_version": st.active_version,
        "previous_version": st.previous_version,
        "phase": st.phase,
        **(
            {
                "candidate": {
                    "slot": slot(st.candidate_slot),
                    "version": st.candidate_version,
                    "weight": st.candidate_weight,
                }
            }
            if st.candidate_weight
            else {}
        ),  # a weighted step's
        "slots": [
            message_doc(
                s,
                drop={"cpu_seconds", "open_fds"},
                rename={"active_connections": "connections"},
                slot=slot(s.slot),
                state=slot_state(s.state),
            )
            for s in st.slots
        ],
    }


def apply(args: argparse.Namespace, client: Client, out: Output) -> int:
    try:
        text = args.file.read_text()
    except OSError as exc:
        raise CliError(f"{args.file}: {exc.strerror or exc}", EXIT_USAGE) from None
    spec = client.call(client.ops.ApplyService, ops_pb2.ApplyServiceRequest(source_toml=text, file_name=str(args.file)))
    if out.fmt != "table":
        out.document({"name": spec.name, "revision": spec.revision})
    else:
        out.line(f"service {spec.name} at revision {spec.revision}")
    return EXIT_OK


def show(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.GetService, ops_pb2.GetServiceRequest(name=args.name, history=args.history))
    doc = {
        "name": r.spec.name,
        "revision": r.spec.revision,
        "driver": r.spec.driver,
        "router": r.spec.router,
        "front_port": r.spec.front_port,
        "back_ports": {"blue": r.spec.blue_port, "green": r.spec.green_port},
        "hosts": [{"host_id": h.host_id, **status_doc(h.status)} for h in r.hosts],
    }
    if args.history:
        doc["history"] = [{"revision": h.revision, "source": h.source_toml} for h in r.history]
    if out.fmt != "table":
        out.document(doc)
        return EXIT_OK
    out.line(
        f"[bold]{r.spec.name}[/bold] revision {r.spec.revision} · {r.spec.driver} · {r.spec.router} router · "
        f"front {r.spec.front_port}, blue {r.spec.blue_port}, green {r.spec.green_port}"
    )
    rows = []
    for h in r.hosts:
        for s in h.status.slots:
            active = "*" if s.slot == h.status.active_slot else ""
            if h.status.candidate_weight and s.slot == h.status.candidate_slot:
                active = f" ({h.status.candidate_weight}%)"  # a weighted step's candidate and its share
            rows.append(
                [
                    h.host_id,
                    slot(s.slot) + active,
                    s.version or "-",
                    slot_state(s.state),
                    str(s.pid or "-"),
                    str(s.restarts),
                    str(s.active_connections),
                ]
            )
    if not r.hosts:
        out.line("not running on any host (stopped, or never switched to a version)")
    else:
        out.table(["HOST", "SLOT", "VERSION", "STATE", "PID", "RESTARTS", "CONNS"], rows)
    for h in r.history if args.history else []:
        out.line(f"\n[bold]revision {h.revision}[/bold]")
        out.raw(h.source_toml)
    return EXIT_OK


def list_services(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.ListServices, ops_pb2.ListServicesRequest())
    docs = [
        {"name": s.name, "revision": s.revision, "driver": s.driver, "router": s.router, "selector": dict(s.selector)}
        for s in r.services
    ]
    if out.fmt != "table":
        out.document(docs)
    else:
        out.table(
            ["NAME", "REVISION", "DRIVER", "ROUTER", "SELECTOR"],
            [
                [
                    d["name"],
                    str(d["revision"]),
                    d["driver"],
                    d["router"],
                    ",".join(f"{k}={v}" for k, v in d["selector"].items()),
                ]
                for d in docs
            ],
        )
    return EXIT_OK


def _switch(args: argparse.Namespace, client: Client, out: Output, rollback: bool) -> int:
    req = ops_pb2.SwitchHostRequest(
        service=args.name, host_id=args.host, version=getattr(args, "version", ""), rollback=rollback
    )
    r = client.call(client.ops.SwitchHost, req, timeout=max(client.settings.timeout, 300.0)).result
    if out.fmt != "table":
        out.document(
            {"changed": r.changed, "flip_latency_ms": r.flip_latency_ms, "message": r.message, **status_doc(r.status)}
        )
    else:
        out.line(
            f"{args.host}: {esc(r.message)}" + (f" (flip {r.flip_latency_ms} ms after healthy)" if r.changed else "")
        )
    return EXIT_OK


def switch(args: argparse.Namespace, client: Client, out: Output) -> int:
    return _switch(args, client, out, False)


def rollback(args: argparse.Namespace, client: Client, out: Output) -> int:
    return _switch(args, client, out, True)
