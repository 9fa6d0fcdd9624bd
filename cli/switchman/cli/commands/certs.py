"""``switchman certs init --dir D [--san N]...`` and ``certs issue --dir D agent NAME [--san N]...``.

These run locally (no controller needed): they write the fleet's PKI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_OK, CliError
from switchman.cli.render import Output
from switchman.proto.validate import ValidationError

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("certs", help="make the fleet's CA and certificates (local, no controller needed)")
    csub = p.add_subparsers(dest="certs_cmd", metavar="init|issue")
    i = csub.add_parser("init", help="create the CA and the controller's certificate")
    i.add_argument("--dir", required=True, type=Path)
    i.add_argument("--san", action="append", default=[], help="extra DNS name or IP for the controller")
    i.set_defaults(func=init, local=True)
    s = csub.add_parser("issue", help="issue an agent's certificate (its name is its host id)")
    s.add_argument("--dir", required=True, type=Path)
    s.add_argument("kind", choices=["agent", "controller"])
    s.add_argument("name")
    s.add_argument("--san", action="append", default=[], help="extra DNS name or IP")
    s.set_defaults(func=issue_cmd, local=True)


def init(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.cli.pki import PkiError, init_ca  # cryptography: only for the commands that use it

    try:
        written = init_ca(args.dir, args.san)
    except (PkiError, OSError) as exc:
        raise CliError(str(exc)) from None
    for p in written:
        out.line(f"wrote {p}")
    return EXIT_OK


def issue_cmd(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.cli.pki import PkiError, issue

    if args.kind == "controller":
        args.name = "switchman-controller"
    try:
        written = issue(args.dir, args.kind, args.name, args.san)
    except (PkiError, ValidationError, OSError) as exc:
        raise CliError(str(exc)) from None
    for p in written:
        out.line(f"wrote {p}")
    return EXIT_OK
