"""Prometheus rule files, unchanged format: ``groups[].name``, ``interval``,
``limit``, ``rules[]`` with ``record`` or ``alert``, ``expr``, ``for``,
``keep_firing_for``, ``labels``, ``annotations``. A file is accepted exactly
when Prometheus 2.42's ``promtool check rules`` accepts it: empty groups and
files, alert label and annotation templates that parse as Go templates
(:func:`switchman.controller.alerts.templates.check`), durations as
Prometheus writes them (``0``, ``1h30m``).

:func:`load_rule_file` returns typed groups or every problem found, each as
``FILE:LINE:COL: message`` (positions from the YAML nodes; an expression's
own error column is added to its line's, and so is a template's)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.alerts.gotemplate import FuncError
from switchman.controller.alerts.gotemplate.prometheus import parse_duration
from switchman.controller.alerts.templates import check as check_template
from switchman.controller.promql import PromQLError, ast, parse
from switchman.controller.yamlcheck import Checker, NotYAML, pos, scalar

_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
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
    limit: int = 0


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
        root = _first_document(text, file)
    except NotYAML as exc:
        out.errors.append(f"{exc.where}: invalid YAML: {exc.problem}")
        return out
    if root is None or _null(root):
        return out
    _duplicate_keys(c, root)
    top = c.fields(root)
    if not top.is_mapping:
        c.err(root, "expected a mapping with `groups:`")
        return out
    top.unknown({"groups"}, "unknown field {key!r}")
    groups_node = top.get("groups")
    if groups_node is None or _null(groups_node):
        return out
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


def _first_document(text: str, file: str) -> yaml.Node | None:
    """The first YAML document's root (promtool reads only the first).

    :raises NotYAML: with the position PyYAML gives.
    """
    try:
        return next(iter(yaml.compose_all(text)), None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise NotYAML(where, str(getattr(exc, "problem", exc))) from None


def _null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _duplicate_keys(c: Checker, node: yaml.Node) -> None:
    """A key given twice in one mapping, refused as Go's YAML decoder refuses it."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in first:
                    line = first[k.value].start_mark.line + 1
                    c.err(k, f"mapping key {k.value!r} already defined at line {line}")
                first.setdefault(k.value, k)
            _duplicate_keys(c, v)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(c, item)


def _duration(c: Checker, node: yaml.Node | None, what: str, default: int) -> int:
    """A duration as Prometheus parses it (``model.ParseDuration``: ``0``, ``1h30m``, ``500ms``)."""
    if node is None or _null(node):
        return default
    try:
        return round(parse_duration(scalar(node)) * 1000) if isinstance(node, yaml.ScalarNode) else -1
    except FuncError as exc:
        c.err(node, f"{what}: {exc}")
        return default


def _group(c: Checker, gnode: yaml.Node, default_interval_ms: int) -> Group | None:
    g = c.mapping(gnode, "a group must be a mapping with `name` and `rules`")
    if g is None:
        return None
    g.unknown(GROUP_KEYS, "unknown field {key!r} in group")
    name = g.text("name")
    if not name:
        c.err(gnode, "group: `name` is required")
    interval = _duration(c, g.get("interval"), "interval", 0) or default_interval_ms
    limit = 0
    limit_node = g.get("limit")
    if limit_node is not None and not _null(limit_node):
        text = scalar(limit_node)
        if not re.fullmatch(r"[-+]?(0|[1-9][0-9_]*|0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+)", text):
            c.err(limit_node, f"limit: {text!r} is not an integer")
        else:
            limit = int(text.replace("_", ""), 0) if not re.fullmatch(r"[-+]?0[0-7_]+", text) else int(text, 8)
    rules_node = g.get("rules")
    rules: list[Rule] = []
    if rules_node is None or _null(rules_node):
        pass  # a group without rules is valid (promtool: "0 rules found")
    elif not isinstance(rules_node, yaml.SequenceNode):
        c.err(gnode, f"group {name!r}: `rules` must be a list")
    else:
        rules = [rule for rnode in rules_node.value if not _null(rnode) and (rule := _rule(c, rnode)) is not None]
    return Group(name, interval, tuple(rules), c.file, limit)


def _rule(c: Checker, rnode: yaml.Node) -> Rule | None:
    r = c.mapping(rnode, "a rule must be a mapping")
    if r is None:
        return None
    before = len(c.errors)
    r.unknown(RULE_KEYS, "unknown field {key!r} in rule")
    has_record, has_alert = bool(r.text("record")), bool(r.text("alert"))
    if has_record == has_alert:
        c.err(rnode, "a rule needs exactly one of `record` and `alert`")
        return None
    kind = "recording" if has_record else "alerting"
    name_node = r.get("record" if kind == "recording" else "alert")
    name = scalar(name_node)
    if kind == "recording" and not _METRIC.fullmatch(name):
        c.err(name_node, f"record: {name!r} is not a valid metric name")
    if kind == "alerting" and not name:
        c.err(name_node, "alert: the alert name must not be empty")
    for_ms = _duration(c, r.get("for"), "for", 0)
    keep_firing_for_ms = _duration(c, r.get("keep_firing_for"), "keep_firing_for", 0)
    if kind == "recording":
        if for_ms:
            c.err(r.key("for"), "invalid field 'for' in recording rule")
        if keep_firing_for_ms:
            c.err(r.key("keep_firing_for"), "invalid field 'keep_firing_for' in recording rule")
    expr_node, expr_text = r.get("expr"), r.text("expr")
    expr: ast.Expr | None = None
    if expr_node is None or not expr_text:
        c.err(rnode, f"rule {name!r}: `expr` is required")
    else:
        try:
            expr = parse(expr_text)
        except PromQLError as exc:
            c.err_at(_expr_pos(c.file, expr_node, exc), f"rule {name!r}: {exc.bare}")
    labels = _string_map(c, r.get("labels"), "labels")
    annotations = _string_map(c, r.get("annotations"), "annotations")
    if kind == "recording" and annotations:
        c.err(r.key("annotations"), "invalid field 'annotations' in recording rule")
    if kind == "alerting":
        _check_templates(c, name, r.get("labels"), "label")
        _check_templates(c, name, r.get("annotations"), "annotation")
    if len(c.errors) > before or expr is None:
        return None
    return Rule(name, kind, expr, expr_text, for_ms, keep_firing_for_ms, labels, annotations, rnode.start_mark.line + 1)


def _expr_pos(file: str, node: yaml.Node, exc: PromQLError) -> str:
    """Point at the expression's own error position where the YAML keeps columns (plain, single-line scalars)."""
    if exc.pos is None or getattr(node, "style", None) not in (None, "", "'", '"') or "\n" in exc.expr:
        return pos(file, node)
    quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1 + quote + exc.pos}"


def _check_templates(c: Checker, rule: str, node: yaml.Node | None, what: str) -> None:
    """Each value of an alert's labels or annotations must parse as a template."""
    if not isinstance(node, yaml.MappingNode):
        return
    for k, v in node.value:
        if not isinstance(v, yaml.ScalarNode) or _null(v):
            continue
        problem = check_template(str(v.value), rule)
        if problem is not None:
            where = _text_pos(c.file, v, str(v.value), problem.offset)
            c.err_at(where, f"rule {rule!r}: {what} {k.value!r}: {problem.message}")


def _text_pos(file: str, node: yaml.ScalarNode, text: str, offset: int) -> str:
    """Where ``offset`` of a scalar's text is in the file: exact for plain and
    quoted single-line scalars without escapes, else the scalar's start."""
    start = node.start_mark
    src = start.buffer[start.index : node.end_mark.index] if start.buffer is not None else ""
    quote = 1 if node.style in ("'", '"') else 0
    if "\n" in text or src[quote : quote + len(text)] != text:
        return pos(file, node)
    return f"{file}:{start.line + 1}:{start.column + 1 + quote + offset}"


def _string_map(c: Checker, node: yaml.Node | None, what: str) -> dict[str, str]:
    """Labels or annotations: a mapping of strings whose keys are label names
    (``__name__`` is not a rule label)."""
    if node is None or _null(node):
        return {}
    if c.mapping(node, f"{what}: expected a mapping of strings") is None:
        return {}
    out: dict[str, str] = {}
    for k, v in node.value:
        name = str(k.value)
        if not _LABEL.fullmatch(name) or (what == "labels" and name == "__name__"):
            c.err(k, f"{what}: {name!r} is not a valid {'label' if what == 'labels' else 'annotation'} name")
        if not isinstance(v, yaml.ScalarNode):
            c.err(v, f"{what}.{name}: expected a string")
            continue
        out[name] = "" if _null(v) else str(v.value)
    return out
