"""Request parameters as Prometheus' HTTP API reads them: times as Unix
seconds or RFC 3339, durations as seconds or Prometheus durations, and
``match[]`` series selectors."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from switchman.controller.promql import PromQLError, parse
from switchman.controller.promql.ast import Matcher, MatchOp, VectorSelector
from switchman.proto.durations import DurationError, parse_duration_ms

# the bounds Prometheus uses for "no start" / "no end" (Go's min and max time in milliseconds)
MIN_TIME_MS = -9_223_309_901_257_974
MAX_TIME_MS = 9_223_309_901_257_974
_RFC3339 = re.compile(
    r"^(?P<year>[+-]?\d{4,})-(?P<month>\d\d)-(?P<day>\d\d)[Tt ](?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?P<frac>\.\d+)?(?P<tz>[Zz]|[+-]\d\d:\d\d)$"
)


class BadParam(ValueError):
    """A parameter that does not parse; the message is Prometheus' wording."""


def parse_time_ms(text: str, name: str) -> int:
    """``time``, ``start`` and ``end``: a float of Unix seconds or RFC 3339
    (years outside 1..9999 clamp to the bounds, as Prometheus' min/max times do)."""
    s = text.strip()
    try:
        seconds = float(s)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            raise BadParam(f"invalid parameter {name!r}: cannot parse {text!r} to a valid timestamp")
        return max(MIN_TIME_MS, min(MAX_TIME_MS, round(seconds * 1000)))
    m = _RFC3339.match(s)
    if m is None:
        raise BadParam(f"invalid parameter {name!r}: cannot parse {text!r} to a valid timestamp")
    year = int(m["year"])
    if year < 1:
        return MIN_TIME_MS
    if year > 9999:
        return MAX_TIME_MS
    tz = m["tz"].upper().replace("Z", "+00:00")
    frac = (m["frac"] or ".0")[:7].ljust(7, "0")
    try:
        dt = datetime.fromisoformat(
            f"{year:04d}-{m['month']}-{m['day']}T{m['h']}:{m['m']}:{m['s']}{frac}{tz}"
        ).astimezone(UTC)
    except ValueError:
        raise BadParam(f"invalid parameter {name!r}: cannot parse {text!r} to a valid timestamp") from None
    return int(dt.timestamp() * 1000)


def parse_step_ms(text: str, name: str) -> int:
    """``step`` and ``timeout``: float seconds or a Prometheus duration."""
    s = text.strip()
    try:
        seconds = float(s)
    except ValueError:
        try:
            return parse_duration_ms(s)
        except DurationError:
            raise BadParam(f"invalid parameter {name!r}: cannot parse {text!r} to a valid duration") from None
    if math.isnan(seconds) or math.isinf(seconds):
        raise BadParam(f"invalid parameter {name!r}: cannot parse {text!r} to a valid duration")
    return round(seconds * 1000)


def parse_matchers(selectors: list[str]) -> list[list[Matcher]]:
    """``match[]``: each must be a series selector, as Prometheus requires."""
    out = []
    for text in selectors:
        try:
            node = parse(text)
        except PromQLError as exc:
            raise BadParam(f'invalid parameter "match[]": {exc}') from None
        if not isinstance(node, VectorSelector):
            raise BadParam(f'invalid parameter "match[]": {text!r} is not a series selector')
        matchers = list(node.matchers)
        if not any(m.name == "__name__" for m in matchers) and node.name:
            matchers.append(Matcher.make("__name__", MatchOp.EQ, node.name))
        if all(m.matches("") for m in matchers):
            raise BadParam('invalid parameter "match[]": match[] must contain at least one non-empty matcher')
        out.append(matchers)
    return out
