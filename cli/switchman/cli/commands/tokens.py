"""``switchman token create|list|revoke``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_OK
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, iso, when

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("token", help="API tokens (admin)")
    tsub = p.add_subparsers(dest="token_cmd", metavar="create|list|revoke")
    c = tsub.add_parser("create", help="create a token; prints its secret once")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    c.set_defaults(func=create)
    ls = tsub.add_parser("list", help="list tokens (never their secrets)")
    ls.set_defaults(func=list_tokens)
    r = tsub.add_parser("revoke", help="revoke a token by name")
    r.add_argument("name")
    r.set_defaults(func=revoke)


def create(args: argparse.Namespace, client: Client, out: Output) -> int:
    resp = client.call(client.ops.CreateToken, ops_pb2.CreateTokenRequest(name=args.name, role=args.role))
    if out.fmt != "table":
        out.document({"name": resp.token.name, "role": resp.token.role, "token": resp.secret})
    else:
        print(resp.secret)
    return EXIT_OK


def list_tokens(args: argparse.Namespace, client: Client, out: Output) -> int:
    resp = client.call(client.ops.ListTokens, ops_pb2.ListTokensRequest())
    docs = [
        {
            "name": t.name,
            "role": t.role,
            "created": iso(t.created_at_ms),
            "last_used": when(t.last_used_ms),
            "revoked": t.revoked,
        }
        for t in resp.tokens
    ]
    if out.fmt != "table":
        out.document(docs)
    else:
        out.table(
            ["NAME", "ROLE", "CREATED", "LAST USED", "REVOKED"],
            [[d["name"], d["role"], d["created"], d["last_used"] or "never", str(d["revoked"]).lower()] for d in docs],
        )
    return EXIT_OK


def revoke(args: argparse.Namespace, client: Client, out: Output) -> int:
    t = client.call(client.ops.RevokeToken, ops_pb2.RevokeTokenRequest(name=args.name))
    out.line(f"revoked token {t.name}") if out.fmt == "table" else out.document({"name": t.name, "revoked": True})
    return EXIT_OK
