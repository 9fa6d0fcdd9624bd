"""How ``switchman`` reads its command line, on top of argparse: global
flags before or after the command, and usage errors raised as
:class:`UsageError` (one line and a hint) instead of argparse's usage block."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

from switchman.cli.errors import UsageError

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


class Parser(argparse.ArgumentParser):
    """Raises :class:`UsageError` naming the (sub)command that refused the
    line; names an unknown command as such, with the closest one."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            close = difflib.get_close_matches(value, list(action.choices), n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise argparse.ArgumentError(None, f"unknown command {value!r}{guess}")
        super()._check_value(action, value)


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


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    """On the root parser, with their defaults."""
    for flags, kwargs in GLOBAL_FLAGS:
        parser.add_argument(*flags, **kwargs)


def finish(root: argparse.ArgumentParser) -> None:
    """Give every command the global flags (set only when given after the
    command, so they override the ones before) and its name for usage hints
    (``usage_prog``: the innermost parser's default wins)."""
    root.set_defaults(usage_prog=root.prog)
    for command in subparsers(root):
        group = command.add_argument_group("global options (also accepted before the command)")
        for flags, kwargs in GLOBAL_FLAGS:
            group.add_argument(*flags, **kwargs | {"default": argparse.SUPPRESS})
        command.formatter_class = CommandHelp
        command.set_defaults(usage_prog=command.prog)


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's and sub-command's parser under ``parser``."""
    for sub in subcommands(parser).values():
        yield sub
        yield from subparsers(sub)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``parser``'s sub-commands by name (none for a leaf command)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parse(root: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """:raises UsageError: for anything argparse refuses, an unknown argument,
    or a command group given without one of its commands."""
    args, extra = root.parse_known_args(argv)
    if extra and hasattr(args, "params") and all("=" in e and not e.startswith("-") for e in extra):
        args.params += extra  # KEY=VALUE parameters may follow the options (`chaos inject ... --duration 1m k=v`)
    elif extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}", args.usage_prog)
    group = next((p for p in subparsers(root) if p.prog == args.usage_prog), None)
    if group is not None and subcommands(group) and not hasattr(args, "func"):
        raise UsageError(f"missing command: one of {', '.join(subcommands(group))}", args.usage_prog)
    return args


def usage_lines(message: str, prog: str) -> str:
    """``switchman: error: rollout start: MESSAGE`` and ``Try 'switchman rollout start --help'``."""
    where = prog.partition(" ")[2]
    return f"switchman: error: {where + ': ' if where else ''}{message}\nTry '{prog} --help'\n"
