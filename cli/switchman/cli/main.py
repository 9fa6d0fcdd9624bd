"""``switchman``: argument parsing and dispatch. Errors are one line; exit
codes as SPEC 5 (0 ok, 1 failed, 2 usage, 3 unreachable/unauthenticated)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import Any

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

# The flags every command takes, before or after its name (`switchman -o json
# query up` and `switchman query up -o json`); when given in both places the
# later one wins. `--version` is not among them: `rollout start` has its own.
GLOBAL_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--controller",), {"metavar": "ADDR", "help": "controller address (env SWITCHMAN_CONTROLLER)"}),
    (("--token",), {"help": "API token (env SWITCHMAN_TOKEN)"}),
    (("--token-file",), {"metavar": "FILE", "help": "read the API token from FILE"}),
    (("--tls-dir",), {"metavar": "DIR", "help": "directory holding ca.pem"}),
    (("--ca",), {"metavar": "FILE", "help": argparse.SUPPRESS}),
    (("--insecure",), {"action": "store_true", "help": "plaintext (loopback controller only)"}),
    (("-o", "--output"), {"choices": ["table", "json", "yaml"], "default": "table", "help": "output format"}),
    (("--no-color",), {"action": "store_true", "help": "no colours"}),
    (("--timeout",), {"type": float, "metavar": "SECONDS", "help": "RPC deadline (default 10)"}),
)
GLOBAL_DESTS = frozenset(flags[-1].lstrip("-").replace("-", "_") for flags, _ in GLOBAL_FLAGS)


class CommandHelp(argparse.HelpFormatter):
    """A command's usage line without the global flags (its help lists them)."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        own = [a for a in actions if not (a.dest in GLOBAL_DESTS and a.default is argparse.SUPPRESS)]
        super().add_usage(usage, own, groups, prefix)


def add_global_flags(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The root parser holds the defaults; a command's parser sets a flag only
    when it is given after the command, so it overrides the one before."""
    if defaults:
        for flags, kwargs in GLOBAL_FLAGS:
            parser.add_argument(*flags, **kwargs)
        return
    group = parser.add_argument_group("global options (also accepted before the command)")
    for flags, kwargs in GLOBAL_FLAGS:
        group.add_argument(*flags, **kwargs | {"default": argparse.SUPPRESS})
    parser.formatter_class = CommandHelp


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's and sub-command's parser under ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from subparsers(sub)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchman", description="Operate a Switchman fleet.")
    p.add_argument("--version", action="version", version=f"switchman {__version__}")
    add_global_flags(p, defaults=True)
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
    for command in subparsers(p):
        add_global_flags(command, defaults=False)
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
