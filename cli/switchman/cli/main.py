"""``switchman``: argument parsing and dispatch. Errors are one line; exit
codes as SPEC 5 (0 ok, 1 failed, 2 usage, 3 unreachable/unauthenticated)."""

from __future__ import annotations

import argparse
import sys

from switchman.cli import __version__
from switchman.cli.client import Client, load_settings
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
from switchman.cli.errors import EXIT_USAGE, CliError
from switchman.cli.render import Output


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchman", description="Operate a Switchman fleet.")
    p.add_argument("--version", action="version", version=f"switchman {__version__}")
    p.add_argument("--controller", metavar="ADDR", help="controller address (env SWITCHMAN_CONTROLLER)")
    p.add_argument("--token", help="API token (env SWITCHMAN_TOKEN)")
    p.add_argument("--token-file", metavar="FILE", help="read the API token from FILE")
    p.add_argument("--tls-dir", metavar="DIR", help="directory holding ca.pem")
    p.add_argument("--ca", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--insecure", action="store_true", help="plaintext (loopback controller only)")
    p.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    p.add_argument("--no-color", action="store_true", help="no colours")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="RPC deadline (default 10)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
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
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "params") and all("=" in e and not e.startswith("-") for e in extra):
        args.params += extra  # KEY=VALUE parameters may follow the options (`chaos inject ... --duration 1m k=v`)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
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
            client = Client(load_settings(args))
        code: int = args.func(args, client, out)
        return code
    except CliError as exc:
        print(f"switchman: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    sys.exit(main())
