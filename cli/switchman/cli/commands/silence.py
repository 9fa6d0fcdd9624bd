"""``switchman silence add|list|expire`` (amtool's shape)."""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, iso
from switchman.proto.durations import parse_duration_ms

if TYPE_CHECKING:
    from switchman.cli.client import Client
    from switchman.controller.promql.ast import Matcher

SYNTAX = "NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX"
_OPERATOR_TYPO = re.compile(r"\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?P<op>(?>=~|!~|!=|=)\s*[=!~]+)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("silence", help="silence alerts by label matchers")
    ssub = p.add_subparsers(dest="silence_cmd", metavar="add|list|expire")
    a = ssub.add_parser("add", help="add a silence: switchman silence add alertname=X host=~'web.*' -d 2h -c why")
    a.add_argument("matchers", nargs="+", metavar="MATCHER", help=SYNTAX)
    a.add_argument("--duration", "-d", default="1h", help="how long from the start (default 1h)")
    a.add_argument("--start", help="RFC 3339 start time (default now)")
    a.add_argument("--end", help="RFC 3339 end time (instead of --duration)")
    a.add_argument("--comment", "-c", required=True, help="why (a ticket if there is one)")
    a.add_argument("--author", "-a", default="", help="default: the token's name")
    a.set_defaults(func=add)
    ls = ssub.add_parser("list", help="active and pending silences")
    ls.add_argument("--expired", action="store_true", help="include expired silences")
    ls.set_defaults(func=list_silences)
    e = ssub.add_parser("expire", help="end silences now")
    e.add_argument("ids", nargs="+", metavar="ID")
    e.set_defaults(func=expire)


def _time_ms(text: str, flag: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise CliError(f"{flag} {text!r}: expected an RFC 3339 time such as 2026-11-23T10:00:00Z", EXIT_USAGE) from None


def parse_matchers(texts: list[str]) -> list[Matcher]:
    """The controller's matcher syntax, minus one trap: ``alertname==Foo``
    would parse as ``alertname`` equal to ``=Foo``. An unquoted value may not
    start with ``=``, ``!`` or ``~`` (quote it to mean it: ``name="=x"``).

    :raises CliError: (usage) naming the matcher and showing the syntax.
    """
    from switchman.controller.notify.matchers import MatcherError, parse_matcher  # with the controller's PromQL

    out = []
    for text in texts:
        typo = _OPERATOR_TYPO.match(text)
        if typo:
            raise CliError(
                f"matcher {text!r}: {typo['op']!r} is not an operator; expected {SYNTAX} "
                "(quote a value that starts with =, ! or ~)",
                EXIT_USAGE,
            )
        try:
            out.append(parse_matcher(text))
        except MatcherError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    return out


def add(args: argparse.Namespace, client: Client, out: Output) -> int:
    matchers = parse_matchers(args.matchers)
    start = _time_ms(args.start, "--start") if args.start else int(time.time() * 1000)
    if args.end:
        end = _time_ms(args.end, "--end")
    else:
        try:
            end = start + parse_duration_ms(args.duration)
        except ValueError as exc:
            raise CliError(f"--duration: {exc}", EXIT_USAGE) from None
    s = client.call(
        client.ops.AddSilence,
        ops_pb2.AddSilenceRequest(
            matchers=[ops_pb2.Matcher(name=m.name, op=str(m.op), value=m.value) for m in matchers],
            starts_at_ms=start,
            ends_at_ms=end,
            comment=args.comment,
            author=args.author,
        ),
    )
    out.line(s.id) if out.fmt == "table" else out.document(_doc(s))
    return EXIT_OK


def _doc(s: ops_pb2.Silence) -> dict[str, object]:
    return {
        "id": s.id,
        "matchers": [f"{m.name}{m.op}{m.value}" for m in s.matchers],
        "startsAt": iso(s.starts_at_ms),
        "endsAt": iso(s.ends_at_ms),
        "createdBy": s.created_by,
        "comment": s.comment,
        "state": s.state,
    }


def list_silences(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.ListSilences, ops_pb2.ListSilencesRequest(include_expired=args.expired))
    if out.fmt != "table":
        out.document([_doc(s) for s in r.silences])
        return EXIT_OK
    rows = [
        [
            s.id,
            " ".join(f"{m.name}{m.op}{m.value!r}" for m in s.matchers),
            s.state,
            iso(s.starts_at_ms),
            iso(s.ends_at_ms),
            s.created_by,
            s.comment,
        ]
        for s in r.silences
    ]
    out.table(["ID", "MATCHERS", "STATE", "STARTS", "ENDS", "BY", "COMMENT"], rows)
    if not rows:
        out.line("[dim]no silences[/dim]")
    return EXIT_OK


def expire(args: argparse.Namespace, client: Client, out: Output) -> int:
    done = [client.call(client.ops.ExpireSilence, ops_pb2.ExpireSilenceRequest(id=i)) for i in args.ids]
    if out.fmt == "table":
        for s in done:
            out.line(f"expired silence {s.id}")
    else:
        out.document([_doc(s) for s in done])
    return EXIT_OK
