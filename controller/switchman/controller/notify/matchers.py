"""Label matchers as operators type them (``alertname=Foo``,
``host=~"web-.*"``), the same four operators as PromQL selectors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from switchman.controller.promql.ast import Matcher, MatchOp

_FORM = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", re.DOTALL)


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled."""


def parse_matcher(text: str) -> Matcher:
    """``NAME OP VALUE``; the value may be double-quoted.

    :raises MatcherError: naming the matcher and what was expected.
    """
    m = _FORM.fullmatch(text)
    if m is None:
        raise MatcherError(f"matcher {text!r}: expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX")
    name, op, value = m.groups()
    if value[:1] in ("=", "!", "~"):  # `alertname==Foo`, `a=!b`: a typo, not the value "=Foo"
        raise MatcherError(
            f"matcher {text!r}: the value starts with {value[0]!r}; expected NAME=VALUE, NAME!=VALUE,"
            f' NAME=~REGEX or NAME!~REGEX (quote a value that really starts with it: {name}{op}"{value}")'
        )
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise MatcherError(f"matcher {text!r}: bad quoted value: {exc.msg}") from None
    return make(name, op, value)


def make(name: str, op: str, value: str) -> Matcher:
    """:raises MatcherError: on an unknown operator or a regex that does not compile."""
    try:
        kind = MatchOp(op)
    except ValueError:
        raise MatcherError(f"matcher {name!r}: unknown operator {op!r} (expected = != =~ !~)") from None
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name):
        raise MatcherError(f"matcher {name!r}: not a label name")
    try:
        return Matcher.make(name, kind, value)
    except re.error as exc:
        raise MatcherError(f"matcher {name}{op}{value!r}: bad regular expression: {exc}") from None


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """A missing label matches as the empty string, as in Prometheus."""
    return all(m.matches(labels.get(m.name, "")) for m in matchers)
