"""``switchman query EXPR [--at T] [--range 1h --step 1m]``."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, fmt_value, iso, sparkline
from switchman.proto.durations import DurationError, parse_duration_ms

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("query", help="evaluate a PromQL expression (instant, or a range with --range)")
    p.add_argument("expr", help="PromQL expression")
    p.add_argument("--at", help="evaluation time: RFC 3339, Unix seconds, or a duration ago (e.g. 5m)")
    p.add_argument("--range", dest="range_", metavar="DURATION", help="range query over the last DURATION")
    p.add_argument("--step", default="", metavar="DURATION", help="range query resolution (default: range/60)")
    p.set_defaults(func=query)


def parse_time(text: str, now_ms: int) -> int:
    """RFC 3339, Unix seconds, or a duration before now."""
    with contextlib.suppress(DurationError):
        return now_ms - parse_duration_ms(text)
    with contextlib.suppress(ValueError):
        return int(float(text) * 1000)
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--at {text!r}: expected RFC 3339, Unix seconds or a duration such as 5m", EXIT_USAGE) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp() * 1000)


def _duration(flag: str, text: str) -> int:
    try:
        return parse_duration_ms(text)
    except DurationError as exc:
        raise CliError(f"{flag}: {exc}", EXIT_USAGE) from None


def api_doc(resp: ops_pb2.QueryResponse) -> dict[str, Any]:
    """Prometheus' HTTP API ``data`` shape: values as [unix seconds, "string"]."""

    def pt(p: Any) -> list[Any]:
        return [p.timestamp_ms / 1000, fmt_value(p.value)]

    if resp.result_type == "scalar":
        return {"resultType": "scalar", "result": pt(resp.scalar)}
    if resp.result_type == "string":
        return {"resultType": "string", "result": [time.time(), resp.string_value]}
    if resp.result_type == "matrix":
        result = [{"metric": dict(sorted(s.metric.items())), "values": [pt(p) for p in s.points]} for s in resp.result]
    else:
        result = [{"metric": dict(sorted(s.metric.items())), "value": pt(s.points[0])} for s in resp.result if s.points]
    return {"resultType": resp.result_type, "result": result}


def series_name(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{inner}}}" if inner or not name else name


def query(args: argparse.Namespace, client: Client, out: Output) -> int:
    now = int(time.time() * 1000)
    at = parse_time(args.at, now) if args.at else now
    if args.range_:
        span = _duration("--range", args.range_)
        step = _duration("--step", args.step) if args.step else max(1000, span // 60)
        resp = client.call(
            client.ops.QueryRange,
            ops_pb2.QueryRangeRequest(expr=args.expr, start_ms=at - span, end_ms=at, step_ms=step),
        )
    else:
        resp = client.call(client.ops.Query, ops_pb2.QueryRequest(expr=args.expr, time_ms=at))
    if out.fmt != "table":
        out.document(api_doc(resp))
        return EXIT_OK
    if resp.result_type == "scalar":
        out.line(fmt_value(resp.scalar.value))
    elif resp.result_type == "string":
        out.line(resp.string_value)
    elif resp.result_type == "vector":
        rows = [[series_name(dict(s.metric)), fmt_value(s.points[0].value)] for s in resp.result if s.points]
        out.table(["SERIES", "VALUE"], rows)
        if not rows:
            out.line("[dim]no data[/dim]")
    else:
        rows = []
        for s in resp.result:
            vals = [p.value for p in s.points]
            rows.append(
                [
                    series_name(dict(s.metric)),
                    sparkline(vals),
                    fmt_value(min(vals)),
                    fmt_value(max(vals)),
                    fmt_value(vals[-1]),
                ]
            )
        out.table(["SERIES", f"{iso(at - _duration('--range', args.range_))} → now", "MIN", "MAX", "LAST"], rows)
        if not rows:
            out.line("[dim]no data[/dim]")
    return EXIT_OK
