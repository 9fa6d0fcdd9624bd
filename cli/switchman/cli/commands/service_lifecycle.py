"""``switchman service stop|remove``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_FAILED, EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output

if TYPE_CHECKING:
    from switchman.cli.client import Client

# both slots drain one after the other on every host
STOP_TIMEOUT_S = 300.0


def register(s: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    st = s.add_parser("stop", help="drain and stop both slots on the service's hosts (the spec stays)")
    st.add_argument("name")
    st.add_argument("--host", action="append", default=[], help="only this host (repeatable)")
    st.set_defaults(func=stop)
    rm = s.add_parser("remove", help="stop a service everywhere and delete its spec")
    rm.add_argument("name")
    rm.set_defaults(func=remove)


def _report(r: ops_pb2.StopServiceResponse, out: Output, failing: set[str]) -> int:
    docs = [{"host_id": h.host_id, "outcome": h.outcome, "message": h.message} for h in r.hosts]
    if out.fmt != "table":
        out.document(docs)
    else:
        out.table(["HOST", "OUTCOME", "MESSAGE"], [[d["host_id"], d["outcome"], d["message"]] for d in docs])
    return EXIT_FAILED if any(h.outcome in failing for h in r.hosts) else EXIT_OK


def stop(args: argparse.Namespace, client: Client, out: Output) -> int:
    req = ops_pb2.OpsStopServiceRequest(name=args.name, host_ids=args.host)
    r = client.call(client.ops.StopService, req, timeout=max(client.settings.timeout, STOP_TIMEOUT_S))
    if not r.hosts and out.fmt == "table":
        out.line(f"{args.name} was not running on any host")
        return EXIT_OK
    return _report(r, out, {"failed", "down", "unreachable"})


def remove(args: argparse.Namespace, client: Client, out: Output) -> int:
    req = ops_pb2.RemoveServiceRequest(name=args.name)
    r = client.call(client.ops.RemoveService, req, timeout=max(client.settings.timeout, STOP_TIMEOUT_S))
    code = _report(r, out, {"failed"}) if r.hosts else EXIT_OK
    if out.fmt == "table":
        out.line(f"service {args.name} removed")
    return code
