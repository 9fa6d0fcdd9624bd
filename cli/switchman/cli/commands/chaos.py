"""``switchman chaos inject|list|halt``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import common_pb2, enum_word, ops_pb2
from switchman.cli.render import Output, iso, when
from switchman.proto.durations import parse_duration_ms

if TYPE_CHECKING:
    from switchman.cli.client import Client

KINDS = ["cpu", "memory", "latency", "errors", "blackhole", "bandwidth", "kill", "pause", "disk_fill", "partition"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("chaos", help="inject, list and halt faults on hosts")
    s = p.add_subparsers(dest="chaos_cmd", metavar="inject|list|halt")
    i = s.add_parser("inject", help="switchman chaos inject web-1 latency --duration 60s --service hello latency=200ms")
    i.add_argument("host")
    i.add_argument("fault", choices=KINDS)
    i.add_argument("params", nargs="*", metavar="KEY=VALUE", help="the fault's parameters (docs/chaos.md)")
    i.add_argument("--duration", "-d", required=True, help="mandatory; the agent reverts the fault after it")
    i.add_argument("--service", default="", help="for latency, errors, blackhole, bandwidth, kill, pause")
    i.add_argument("--force", action="store_true", help="even while a rollout of the service is in progress")
    i.set_defaults(func=inject)
    ls = s.add_parser("list", help="faults applied now (on every up host, or one)")
    ls.add_argument("host", nargs="?", default="")
    ls.add_argument("--history", action="store_true", help="include reverted and failed faults")
    ls.set_defaults(func=list_faults)
    h = s.add_parser("halt", help="revert faults now: on one host, or --all")
    h.add_argument("host", nargs="?", default="")
    h.add_argument("--all", action="store_true")
    h.set_defaults(func=halt)


def doc(f: common_pb2.Fault) -> dict[str, Any]:
    return {
        "id": f.id,
        "host": f.host_id,
        "kind": f.spec.kind,
        "service": f.spec.service,
        "params": dict(sorted(f.spec.params.items())),
        "state": enum_word(common_pb2.FaultState, f.state, "unknown"),
        "applied": iso(f.applied_at_ms),
        "expires": iso(f.expires_at_ms),
        "reverted": when(f.reverted_at_ms),
        "error": f.error,
    }


def inject(args: argparse.Namespace, client: Client, out: Output) -> int:
    params = {}
    for p in args.params:
        k, sep, v = p.partition("=")
        if not sep or not k:
            raise CliError(f"{p!r}: expected KEY=VALUE (e.g. latency=200ms)", EXIT_USAGE)
        params[k] = v
    try:
        duration = parse_duration_ms(args.duration)
    except ValueError as exc:
        raise CliError(f"--duration: {exc}", EXIT_USAGE) from None
    spec = common_pb2.FaultSpec(kind=args.fault, duration_ms=duration, service=args.service, params=params)
    f = client.call(
        client.ops.InjectFault, ops_pb2.OpsInjectFaultRequest(host_id=args.host, spec=spec, force=args.force)
    )
    if out.fmt != "table":
        out.document(doc(f))
    else:
        out.line(
            f"fault {f.id}: {f.spec.kind} on {f.host_id} until {iso(f.expires_at_ms)} (halt: switchman chaos halt {f.host_id})"
        )
    return EXIT_OK


def _table(faults: list[common_pb2.Fault], out: Output) -> None:
    now = int(time.time() * 1000)
    rows = [
        [
            f.id,
            f.host_id,
            f.spec.kind,
            f.spec.service or "-",
            " ".join(f"{k}={v}" for k, v in sorted(f.spec.params.items())) or "-",
            enum_word(common_pb2.FaultState, f.state, "?"),
            f"{max(0, f.expires_at_ms - now) // 1000}s" if f.state == common_pb2.FAULT_STATE_ACTIVE else "-",
        ]
        for f in faults
    ]
    out.table(["ID", "HOST", "FAULT", "SERVICE", "PARAMS", "STATE", "LEFT"], rows)
    if not rows:
        out.line("[dim]no faults[/dim]")


def list_faults(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(
        client.ops.ListFaults, ops_pb2.OpsListFaultsRequest(host_id=args.host, include_reverted=args.history)
    )
    out.document([doc(f) for f in r.faults]) if out.fmt != "table" else _table(list(r.faults), out)
    return EXIT_OK


def halt(args: argparse.Namespace, client: Client, out: Output) -> int:
    if bool(args.host) == bool(args.all):
        raise CliError("halt: give a HOST or --all", EXIT_USAGE)
    r = client.call(client.ops.HaltFaults, ops_pb2.OpsHaltFaultsRequest(host_id=args.host, all=args.all))
    if out.fmt != "table":
        out.document([doc(f) for f in r.faults])
    else:
        out.line(
            f"reverted {len(r.faults)} fault(s)" + "".join(f"\n  {f.id} {f.spec.kind} on {f.host_id}" for f in r.faults)
        )
    return EXIT_OK
