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
from switchman.controller.yamlcheck import Checker, NotYAML, compose, pos, scalar

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
    c = Checker(file)
    out = CheckResult(errors=c.errors)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        out.errors.append(f"{file}: cannot read: {exc.strerror or exc}")
        return out
    try:
        root = compose(text, file)
    except NotYAML as exc:
        out.errors.append(f"{exc.where}: invalid YAML: {exc.problem}")
        return out
    if root is None:
        return out
    top = c.fields(root)
    if not top.is_mapping or "groups" not in top:
        c.err(root, "expected a mapping with `groups:`")
        return out
    top.unknown({"groups"}, "unknown field {key!r}")
    groups_node = top.get("groups")
    if not isinstance(groups_node, yaml.SequenceNode):
        c.err(groups_node, "`groups` must be a list")
        return out
    seen: set[str] = set()
    for gnode in groups_node.value:
        group = _group(c, gnode, default_interval_ms)
        if group is None:
            continue
        if group.name in seen:
            c.err(gnode, f"group name {group.name!r} is repeated in the same file")
        seen.add(group.name)
        out.groups.append(group)
    return out


def _group(c: Checker, gnode: yaml.Node, default_interval_ms: int) -> Group | None:
    g = c.mapping(gnode, "a group must be a mapping with `name` and `rules`")
    if g is None:
        return None
    g.unknown(GROUP_KEYS, "unknown field {key!r} in group")
    name = g.text("name")
    if not name:
        c.err(gnode, "group: `name` is required")
    interval = g.duration_ms("interval", default_interval_ms)
    rules_node = g.get("rules")
    rules: list[Rule] = []
    if not isinstance(rules_node, yaml.SequenceNode):
        c.err(gnode, f"group {name!r}: `rules` must be a list")
    else:
        rules = [rule for rnode in rules_node.value if (rule := _rule(c, rnode)) is not None]
    return Group(name, interval, tuple(rules), c.file)


def _rule(c: Checker, rnode: yaml.Node) -> Rule | None:
    r = c.mapping(rnode, "a rule must be a mapping")
    if r is None:
        return None
    before = len(c.errors)
    r.unknown(RULE_KEYS, "unknown field {key!r} in rule")
    if ("record" in r) == ("alert" in r):
        c.err(rnode, "a rule needs exactly one of `record` and `alert`")
        return None
    kind = "recording" if "record" in r else "alerting"
    name_node = r.get("record" if kind == "recording" else "alert")
    name = scalar(name_node)
    if kind == "recording" and not _METRIC.fullmatch(name):
        c.err(name_node, f"record: {name!r} is not a valid metric name")
    if kind == "alerting" and not name:
        c.err(name_node, "alert: the alert name must not be empty")
    if kind == "recording":
        for k in ("for", "keep_firing_for", "annotations"):
            if k in r:
                c.err(r.key(k), f"invalid field {k!r} in recording rule")
    expr_node, expr_text = r.get("expr"), r.text("expr")
    expr: ast.Expr | None = None
    if expr_node is None or not expr_text:
        c.err(rnode, f"rule {name!r}: `expr` is required")
    else:
        try:
            expr = parse(expr_text)
        except PromQLError as exc:
            c.err_at(_expr_pos(c.file, expr_node, exc), f"rule {name!r}: {exc.bare}")
        else:
            if value_type(expr) not in ("vector", "scalar"):
                c.err(expr_node, f"rule {name!r}: expr must be a scalar or instant vector")
    for_ms, keep_firing_for_ms = r.duration_ms("for", 0), r.duration_ms("keep_firing_for", 0)
    labels = _string_map(c, r.get("labels"), "labels", check_names=True)
    annotations = _string_map(c, r.get("annotations"), "annotations", check_names=False)
    for key, value in [*labels.items(), *annotations.items()]:
        for m in _TEMPLATE.finditer(value):
            if not _TEMPLATE_OK.fullmatch(m.group(1)):
                c.err(rnode, f"rule {name!r}: template in {key!r}: unsupported action {{{{{m.group(1)}}}}}")
    if len(c.errors) > before or expr is None:
        return None
    return Rule(name, kind, expr, expr_text, for_ms, keep_firing_for_ms, labels, annotations, rnode.start_mark.line + 1)


def _expr_pos(file: str, node: yaml.Node, exc: PromQLError) -> str:
    """Point at the expression's own error position where the YAML keeps columns (plain, single-line scalars)."""
    if exc.pos is None or getattr(node, "style", None) not in (None, "", "'", '"') or "\n" in exc.expr:
        return pos(file, node)
    quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1 + quote + exc.pos}"


def _string_map(c: Checker, node: yaml.Node | None, what: str, check_names: bool) -> dict[str, str]:
    """Labels or annotations: a mapping of strings, label names checked when ``check_names``."""
    if node is None:
        return {}
    if c.mapping(node, f"{what}: expected a mapping of strings") is None:
        return {}
    out: dict[str, str] = {}
    for k, v in node.value:
        if check_names and not _LABEL.fullmatch(str(k.value)):
            c.err(k, f"{what}: {k.value!r} is not a valid label name")
        if not isinstance(v, yaml.ScalarNode):
            c.err(v, f"{what}.{k.value}: expected a string")
            continue
        out[str(k.value)] = str(v.value)
    return out
