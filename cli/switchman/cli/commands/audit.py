"""``switchman audit list [--since] [--actor]`` and ``switchman audit verify``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from switchman.cli.commands.query import parse_time
from switchman.cli.errors import EXIT_FAILED, EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, iso

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="the hash-chained audit log of every change")
    asub = p.add_subparsers(dest="audit_cmd", metavar="list|verify")
    ls = asub.add_parser("list", help="entries, oldest first")
    ls.add_argument("--since", help="RFC 3339, Unix seconds, or a duration ago (e.g. 24h)")
    ls.add_argument("--actor", default="", help="only this token name")
    ls.add_argument("--limit", type=int, default=1000)
    ls.set_defaults(func=list_entries)
    v = asub.add_parser("verify", help="check the chain; exit 1 naming the first edited or deleted entry")
    v.set_defaults(func=verify)


def list_entries(args: argparse.Namespace, client: Client, out: Output) -> int:
    since = parse_time(args.since, int(time.time() * 1000)) if args.since else 0
    resp = client.call(
        client.ops.ListAudit, ops_pb2.ListAuditRequest(since_ms=since, actor=args.actor, limit=args.limit)
    )
    docs = [
        {
            "id": e.id,
            "time": iso(e.timestamp_ms),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "arguments": e.arguments,
            "result": e.result,
            "hash": e.hash,
        }
        for e in resp.entries
    ]
    if out.fmt != "table":
        out.document(docs)
    else:
        out.table(
            ["ID", "TIME", "ACTOR", "ACTION", "TARGET", "RESULT"],
            [
                [str(d["id"]), str(d["time"]), str(d["actor"]), str(d["action"]), str(d["target"]), str(d["result"])]
                for d in docs
            ],
        )
    return EXIT_OK


def verify(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.VerifyAudit, ops_pb2.VerifyAuditRequest())
    if out.fmt != "table":
        out.document({"ok": r.ok, "entries": r.entries, "first_bad_id": r.first_bad_id or None, "message": r.message})
    elif r.ok:
        out.line(f"audit log intact: {r.entries} entries, chain verified")
    else:
        out.line(f"audit log TAMPERED: {r.message}")
    return EXIT_OK if r.ok else EXIT_FAILED
