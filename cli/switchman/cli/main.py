"""``switchman``: the command table and dispatch. Errors are one line (a
usage error adds a hint to the command's ``--help``); exit codes 0 ok, 1
failed, 2 usage, 3 unreachable or unauthenticated."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, cast

from switchman.cli import __version__
from switchman.cli.commands import (
    alerts,
    audit,
    backup,
    certs,
    chaos,
    drill,
    fleet,
    incidents,
    query,
    rollout,
    rules,
    services,
    silence,
    slo,
    tokens,
)
from switchman.cli.completion import script
from switchman.cli.errors import EXIT_USAGE, CliError, UsageError
from switchman.cli.parsing import Parser, add_global_flags, finish, parse, usage_lines
from switchman.cli.render import Output

if TYPE_CHECKING:
    from switchman.cli.client import Client


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="switchman", description="Operate a Switchman fleet.")
    p.add_argument("--version", action="version", version=f"switchman {__version__}")
    add_global_flags(p)
    # every command's parser is a Parser; the modules only need an ArgumentParser's methods
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]", p.add_subparsers(dest="command", metavar="COMMAND")
    )
    fleet.register(sub)
    query.register(sub)
    alerts.register(sub)
    silence.register(sub)
    tokens.register(sub)
    services.register(sub)
    rollout.register(sub)
    chaos.register(sub)
    drill.register(sub)
    rules.register(sub)
    slo.register(sub)
    incidents.register(sub)
    certs.register(sub)
    audit.register(sub)
    backup.register(sub)
    c = sub.add_parser("completion", help="print a shell completion script")
    c.add_argument("shell", choices=["bash", "zsh"])
    finish(p)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parse(parser, argv)
    except UsageError as exc:
        sys.stderr.write(usage_lines(str(exc), exc.prog))
        return EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "completion":
        sys.stdout.write(script(parser, args.shell))
        return 0
    out = Output(args.output, color=not args.no_color and sys.stdout.isatty())
    client: Client | None = None
    try:
        if not getattr(args, "local", False):
            from switchman.cli.client import Client, load_settings  # gRPC: only for a command that calls the controller

            client = Client(load_settings(args))
        code: int = args.func(args, client, out)
        return code
    except CliError as exc:
        hint = f"Try '{args.usage_prog} --help'\n" if exc.code == EXIT_USAGE else ""
        sys.stderr.write(f"switchman: {exc}\n{hint}")
        return exc.code
    except KeyboardInterrupt:
        return 130
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    sys.exit(main())
