"""Alert label and annotation templates as Prometheus 2.42 expands them: the
text is prefixed with ``{{$labels := .Labels}}{{$externalLabels :=
.ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}``,
parsed and run as Go's ``text/template`` (``missingkey=zero``) under the name
``__alert_<rule>``, with Prometheus' functions; a failure renders as
``<error expanding template: ...>``, as Prometheus renders it.

:func:`check` is the parse-time check ``promtool check rules`` makes;
:func:`expand` renders; :func:`query_func` gives templates' ``query`` an
evaluator to run on."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switchman.controller.alerts.gotemplate import BUILTINS, ExecError, ParseError, StrMap, Struct, Tree, execute, parse
from switchman.controller.alerts.gotemplate.gofmt import go_float
from switchman.controller.alerts.gotemplate.prometheus import (
    NAMES,
    Context,
    QueryFunc,
    funcs,
    humanize,
    humanize1024,
    humanize_duration,
)
from switchman.controller.promql import parse as parse_promql
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.values import Sample, Scalar

__all__ = [
    "DEFS",
    "Context",
    "TemplateProblem",
    "check",
    "expand",
    "go_float",
    "humanize",
    "humanize1024",
    "humanize_duration",
    "query_func",
]

DEFS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)
_FUNC_NAMES = NAMES | frozenset(BUILTINS)
_DATA_TYPE = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }"


@dataclass(frozen=True)
class TemplateProblem:
    """A template that does not parse: Go's message, and where in the
    template's own text (1-based line, 0-based byte column as Go counts)."""

    message: str
    line: int
    column: int
    offset: int


@functools.lru_cache(maxsize=4096)
def _parsed(name: str, text: str) -> dict[str, Tree] | ParseError:
    try:
        return parse(name, DEFS + text, _FUNC_NAMES)
    except ParseError as exc:
        return exc


def check(text: str, alert: str = "") -> TemplateProblem | None:
    """Whether ``text`` parses as an alert template (as ``promtool check rules`` asks)."""
    result = _parsed(f"__alert_{alert}", text)
    if not isinstance(result, ParseError):
        return None
    offset = max(result.offset - len(DEFS), 0)
    before = text[:offset]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1)
    return TemplateProblem(str(result), line, column, offset)


def expand(
    text: str,
    labels: Mapping[str, str],
    value: float,
    ctx: Context | None = None,
    alert: str = "",
) -> str:
    """``text`` rendered for one alert; an error renders as Prometheus
    renders it, ``<error expanding template: ...>``."""
    if "{{" not in text:  # no action: the text is its own output
        return text
    ctx = ctx or Context()
    name = f"__alert_{alert}"
    trees = _parsed(name, text)
    if isinstance(trees, ParseError):
        return f"<error expanding template: error parsing template {name}: {trees}>"
    data = Struct(
        _DATA_TYPE,
        {
            "Labels": StrMap(labels),
            "ExternalLabels": StrMap(ctx.external_labels),
            "ExternalURL": ctx.external_url or "",
            "Value": float(value),
        },
    )
    try:
        return execute(trees, name, funcs(ctx), data)
    except ExecError as exc:
        return f"<error expanding template: error executing template {name}: {exc}>"


def query_func(evaluator: Evaluator, ts_ms: int) -> QueryFunc:
    """Templates' ``query``: an instant query at the evaluation time
    (a scalar result is one sample without labels, as Prometheus' rule query)."""

    def run(expr: str) -> Sequence[tuple[Mapping[str, str], float]]:
        value = evaluator.instant(parse_promql(expr), ts_ms)
        if isinstance(value, Scalar):
            return [({}, value.v)]
        if isinstance(value, list) and all(isinstance(s, Sample) for s in value):
            return [(s.labels, s.v) for s in value if isinstance(s, Sample)]
        raise ValueError("rule result is not a vector or scalar")

    return run
