"""Prometheus rule files, unchanged format: ``groups[].name``, ``interval``,
``rules[]`` with ``record`` or ``alert``, ``expr``, ``for``,
``keep_firing_for``, ``labels``, ``annotations``.

:func:`load_rule_file` returns typed groups or every problem found, each as
``FILE:LINE:COL: message`` (positions from the YAML nodes; an expression's
own error column is added to its line's)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.promql import PromQLError, ast, parse
from switchman.controller.promql.parser import value_type
from switchman.controller.yamlpos import mapping as _mapping
from switchman.controller.yamlpos import pos as _pos
from switchman.controller.yamlpos import scalar as _scalar
from switchman.proto.durations import DurationError, parse_duration_ms

_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VALUE = r"(?:\$value|\$labels\.[a-zA-Z_]\w*|\$externalLabels\.[a-zA-Z_]\w*|\.Value|\.Labels\.[a-zA-Z_]\w*)"
_FUNC = r"(?:humanize|humanize1024|humanizePercentage|humanizeDuration|humanizeTimestamp|toUpper|toLower|title|printf\s+\"[^\"]*\")"
# the template actions Switchman expands: a value, a function applied to it, or piped through functions
_TEMPLATE_OK = re.compile(rf"\s*(?:{_FUNC}\s+)?{_VALUE}(?:\s*\|\s*{_FUNC})*\s*")
GROUP_KEYS = {"name", "interval", "rules", "limit"}
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # recording | alerting
    expr: ast.Expr
    expr_text: str
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class Group:
    name: str
    interval_ms: int
    rules: tuple[Rule, ...]
    file: str


@dataclass
class CheckResult:
    groups: list[Group] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_rule_file(path: str | Path, default_interval_ms: int = 60_000) -> CheckResult:
    file = str(path)
    out = CheckResult()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        out.errors.append(f"{file}: cannot read: {exc.strerror or exc}")
        return out
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        out.errors.append(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}")
        return out
    if root is None:
        return out
    top = _mapping(root)
    if not isinstance(root, yaml.MappingNode) or "groups" not in top:
        out.errors.append(f"{_pos(file, root)}: expected a mapping with `groups:`")
        return out
    unknown = set(top) - {"groups"}
    for k in sorted(unknown):
        out.errors.append(f"{_pos(file, top[k][0])}: unknown field {k!r}")
    groups_node = top["groups"][1]
    if not isinstance(groups_node, yaml.SequenceNode):
        out.errors.append(f"{_pos(file, groups_node)}: `groups` must be a list")
        return out
    seen: set[str] = set()
    for gnode in groups_node.value:
        group = _group(file, gnode, default_interval_ms, out.errors)
        if group is None:
            continue
        if group.name in seen:
            out.errors.append(f"{_pos(file, gnode)}: group name {group.name!r} is repeated in the same file")
        seen.add(group.name)
        out.groups.append(group)
    return out


def _group(file: str, gnode: yaml.Node, default_interval_ms: int, errors: list[str]) -> Group | None:
    g = _mapping(gnode)
    if not isinstance(gnode, yaml.MappingNode):
        errors.append(f"{_pos(file, gnode)}: a group must be a mapping with `name` and `rules`")
        return None
    for k in sorted(set(g) - GROUP_KEYS):
        errors.append(f"{_pos(file, g[k][0])}: unknown field {k!r} in group")
    name = _scalar(g["name"][1]) if "name" in g else ""
    if not name:
        errors.append(f"{_pos(file, gnode)}: group: `name` is required")
    interval = default_interval_ms
    if "interval" in g:
        try:
            interval = parse_duration_ms(_scalar(g["interval"][1]))
        except DurationError as exc:
            errors.append(f"{_pos(file, g['interval'][1])}: interval: {exc}")
    rules_node = g.get("rules", (None, None))[1]
    rules: list[Rule] = []
    if not isinstance(rules_node, yaml.SequenceNode):
        errors.append(f"{_pos(file, gnode)}: group {name!r}: `rules` must be a list")
    else:
        for rnode in rules_node.value:
            rule = _rule(file, rnode, errors)
            if rule is not None:
                rules.append(rule)
    return Group(name, interval, tuple(rules), file)


def _rule(file: str, rnode: yaml.Node, errors: list[str]) -> Rule | None:
    r = _mapping(rnode)
    if not isinstance(rnode, yaml.MappingNode):
        errors.append(f"{_pos(file, rnode)}: a rule must be a mapping")
        return None
    before = len(errors)
    for k in sorted(set(r) - RULE_KEYS):
        errors.append(f"{_pos(file, r[k][0])}: unknown field {k!r} in rule")
    if ("record" in r) == ("alert" in r):
        errors.append(f"{_pos(file, rnode)}: a rule needs exactly one of `record` and `alert`")
        return None
    kind = "recording" if "record" in r else "alerting"
    name_node = r["record" if kind == "recording" else "alert"][1]
    name = _scalar(name_node)
    if kind == "recording" and not _METRIC.fullmatch(name):
        errors.append(f"{_pos(file, name_node)}: record: {name!r} is not a valid metric name")
    if kind == "alerting" and not name:
        errors.append(f"{_pos(file, name_node)}: alert: the alert name must not be empty")
    if kind == "recording":
        for k in ("for", "keep_firing_for", "annotations"):
            if k in r:
                errors.append(f"{_pos(file, r[k][0])}: invalid field {k!r} in recording rule")
    expr_node = r.get("expr", (None, None))[1]
    expr_text = _scalar(expr_node) if expr_node is not None else ""
    expr: ast.Expr | None = None
    if expr_node is None or not expr_text:
        errors.append(f"{_pos(file, rnode)}: rule {name!r}: `expr` is required")
    else:
        try:
            expr = parse(expr_text)
        except PromQLError as exc:
            errors.append(f"{_expr_pos(file, expr_node, exc)}: rule {name!r}: {exc.bare}")
        else:
            if value_type(expr) not in ("vector", "scalar"):
                errors.append(f"{_pos(file, expr_node)}: rule {name!r}: expr must be a scalar or instant vector")
    durations = {}
    for k in ("for", "keep_firing_for"):
        if k in r:
            try:
                durations[k] = parse_duration_ms(_scalar(r[k][1]))
            except DurationError as exc:
                errors.append(f"{_pos(file, r[k][1])}: {k}: {exc}")
    labels = _string_map(file, r.get("labels"), "labels", errors, check_names=True)
    annotations = _string_map(file, r.get("annotations"), "annotations", errors, check_names=False)
    for key, value in [*labels.items(), *annotations.items()]:
        for m in _TEMPLATE.finditer(value):
            if not _TEMPLATE_OK.fullmatch(m.group(1)):
                errors.append(
                    f"{_pos(file, rnode)}: rule {name!r}: template in {key!r}: unsupported action {{{{{m.group(1)}}}}}"
                )
    if len(errors) > before or expr is None:
        return None
    return Rule(
        name,
        kind,
        expr,
        expr_text,
        durations.get("for", 0),
        durations.get("keep_firing_for", 0),
        labels,
        annotations,
        rnode.start_mark.line + 1,
    )


def _expr_pos(file: str, node: yaml.Node, exc: PromQLError) -> str:
    """Point at the expression's own error position where the YAML keeps columns (plain, single-line scalars)."""
    if exc.pos is None or getattr(node, "style", None) not in (None, "", "'", '"') or "\n" in exc.expr:
        return _pos(file, node)
    quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1 + quote + exc.pos}"


def _string_map(
    file: str, item: tuple[yaml.Node, yaml.Node] | None, what: str, errors: list[str], check_names: bool
) -> dict[str, str]:
    if item is None:
        return {}
    node = item[1]
    if not isinstance(node, yaml.MappingNode):
        errors.append(f"{_pos(file, node)}: {what}: expected a mapping of strings")
        return {}
    out: dict[str, str] = {}
    for k, v in node.value:
        if check_names and not _LABEL.fullmatch(str(k.value)):
            errors.append(f"{_pos(file, k)}: {what}: {k.value!r} is not a valid label name")
        if not isinstance(v, yaml.ScalarNode):
            errors.append(f"{_pos(file, v)}: {what}.{k.value}: expected a string")
            continue
        out[str(k.value)] = str(v.value)
    return out
