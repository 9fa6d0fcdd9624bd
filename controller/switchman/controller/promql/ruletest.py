"""``switchman rules test FILE...``: rule unit tests in ``promtool test rules``
format. This version runs ``promql_expr_test`` cases (input series in the
``a+bxn`` / ``_`` notation, ``eval_time``, ``exp_samples``) and compares exactly,
as promtool does; ``rule_files`` are evaluated every ``evaluation_interval``
from 0 to the last eval time (recording rules write series, alerting rules
write ``ALERTS``), and ``alert_rule_test`` compares the firing alerts'
labels and annotations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from switchman.controller.alerts.engine import Alert, AlertingRule, evaluate_recording
from switchman.controller.alerts.gotemplate.gofmt import go_float, quote
from switchman.controller.alerts.rules import Group, load_rule_file
from switchman.controller.alerts.templates import Context, query_func
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.testfile import (
    ExprResult,
    MemorySource,
    TestFileError,
    duration_ms,
    evaluate,
    format_labels,
    load_input,
    parse_series,
)
from switchman.controller.promql.values import Sample
from switchman.proto.durations import format_duration_ms


@dataclass
class FileReport:
    path: str
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failures


def _same(exp: list[ExprResult], got: list[ExprResult]) -> bool:
    def norm(rs: list[ExprResult]) -> list[tuple[str, float]]:
        return sorted((format_labels(r.labels), r.value) for r in rs)

    a, b = norm(exp), norm(got)
    return len(a) == len(b) and all(
        la == lb and (va == vb or (math.isnan(va) and math.isnan(vb))) for (la, va), (lb, vb) in zip(a, b, strict=True)
    )


def _go_duration(ms: int) -> str:
    """Go's time.Duration text for whole seconds: ``5m0s``, ``1h2m0s``, ``30s``."""
    h, rest = divmod(ms // 1000, 3600)
    m, sec = divmod(rest, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{sec}s"


def go_labels(labels: dict[str, str] | list[tuple[str, str]]) -> str:
    """``labels.Labels.String()``: ``{__name__="m", a="1"}``, sorted by name, values quoted as Go quotes."""
    items = sorted(labels.items()) if isinstance(labels, dict) else labels
    return "{" + ", ".join(f"{k}={quote(v)}" for k, v in items) + "}"


def _indent(text: str, indent: str) -> str:
    """promtool's ``indentLines``: every line but the first gets ``indent``."""
    return ("\n" + indent).join(text.split("\n"))


def _samples_text(rs: list[ExprResult]) -> str:
    ordered = sorted(rs, key=lambda r: sorted(r.labels.items()))
    return ", ".join(f"{go_labels(r.labels)} {go_float(r.value, 'E')}" for r in ordered) or "nil"


def _run_rules(
    groups: list[Group],
    src: MemorySource,
    test: dict[str, Any],
    eval_interval: int,
    errors: list[str] | None = None,
) -> dict[int, dict[str, list[Alert]]]:
    """Evaluate every rule group at each evaluation step up to the last eval
    time; returns the firing alerts by eval time (ms) and alert name. A rule
    that fails (a group's limit exceeded) is noted in ``errors`` as promtool
    reports it, and the test fails."""
    failed = errors if errors is not None else []
    times = [duration_ms(c.get("eval_time", "0s")) for c in (test.get("alert_rule_test") or [])]
    times += [duration_ms(c.get("eval_time", "0s")) for c in (test.get("promql_expr_test") or [])]
    wanted = {duration_ms(c.get("eval_time", "0s")) for c in (test.get("alert_rule_test") or [])}
    end = max(times, default=0)
    ev = Evaluator(src, default_step_ms=eval_interval)
    state = {id(r): AlertingRule(r) for g in groups for r in g.rules if r.kind == "alerting"}
    firing: dict[int, dict[str, list[Alert]]] = {}
    ts = 0
    while groups and ts <= end:
        src.horizon_ms = ts  # as promtool, rules see the input samples up to now only
        for g in groups:
            for r in g.rules:
                if r.kind == "recording":
                    written = evaluate_recording(r, ev, ts)
                    if g.limit and len(written) > g.limit:  # the rule fails: nothing written
                        failed.append(
                            f"    rule: {r.name}, time: {_go_duration(ts)}, err: exceeded limit of {g.limit} with {len(written)} series"
                        )
                        written = []
                else:
                    value = ev.instant(r.expr, ts)
                    samples = [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []
                    ar = state[id(r)]
                    written = ar.evaluate(samples, ts, Context(ts_ms=ts, query=query_func(ev, ts)))
                    if over := ar.over_limit(g.limit):  # every alert of the rule dropped, as the group's limit says
                        failed.append(
                            f"    rule: {r.name}, time: {_go_duration(ts)}, err: exceeded limit of {g.limit} with {over} alerts"
                        )
                        written = []
                for s in written:
                    src.append(s.labels, ts, s.v)
        for t in [t for t in wanted if ts <= t < ts + eval_interval]:
            firing[t] = {}
            for ar in state.values():
                firing[t].setdefault(ar.rule.name, []).extend(
                    Alert(dict(a.labels), dict(a.annotations), a.state, a.active_at_ms, a.value) for a in ar.firing()
                )
        ts += eval_interval
    src.horizon_ms = end  # promql_expr_test cases see the samples up to the last eval time
    return firing


def _check_alerts(test: dict[str, Any], firing: dict[int, dict[str, list[Alert]]]) -> list[str]:
    failures = []
    named = f"    name: {test['name']},\n" if test.get("name") else ""
    for case in test.get("alert_rule_test") or []:
        at = duration_ms(case.get("eval_time", "0s"))
        name = str(case.get("alertname", ""))
        exp = sorted(
            (
                sorted({**{str(k): str(v) for k, v in (e.get("exp_labels") or {}).items()}, "alertname": name}.items()),
                sorted({str(k): str(v) for k, v in (e.get("exp_annotations") or {}).items()}.items()),
            )
            for e in (case.get("exp_alerts") or [])
        )
        got = sorted(
            (sorted(a.labels.items()), sorted(a.annotations.items())) for a in firing.get(at, {}).get(name, [])
        )
        if exp != got:
            failures.append(
                f"{named}    alertname: {name}, time: {format_duration_ms(at)}, \n"
                f"        exp:{_alerts_text(exp)}, \n        got:{_alerts_text(got)}"
            )
    return failures


def _alerts_text(alerts: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]) -> str:
    """promtool's ``labelsAndAnnotations.String()``, indented as it prints it."""
    if not alerts:
        return "[]"
    items = [
        f"{i}:" + _indent(f"\nLabels:{go_labels(lb)}\nAnnotations:{go_labels(an)}", "  ")
        for i, (lb, an) in enumerate(alerts)
    ]
    return _indent("[\n" + ",\n".join(items) + "\n]", " " * 12)


def run_file(path: Path) -> FileReport:
    report = FileReport(str(path))
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        report.errors.append(f"{path}: {exc}")
        return report
    if not isinstance(doc, dict):
        report.errors.append(f"{path}: expected a mapping with `tests`")
        return report
    groups: list[Group] = []
    for rf in doc.get("rule_files") or []:
        loaded = load_rule_file(path.parent / str(rf))
        report.errors += loaded.errors
        groups += loaded.groups
    if report.errors:
        return report
    try:
        eval_interval = duration_ms(doc.get("evaluation_interval", "1m"))
    except ValueError as exc:
        report.errors.append(f"{path}: evaluation_interval: {exc}")
        return report
    for i, group in enumerate(doc.get("tests") or []):
        name = group.get("name") or f"#{i + 1}"
        try:
            interval = duration_ms(group.get("interval", doc.get("evaluation_interval", "1m")))
            src = load_input(group.get("input_series") or [], interval)
            rule_errors: list[str] = []
            firing = _run_rules(groups, src, group, eval_interval, rule_errors)
        except (TestFileError, PromQLError, ValueError) as exc:
            report.errors.append(f"{path}: test {name}: {exc}")
            continue
        report.failures += rule_errors
        report.failures += _check_alerts(group, firing)
        for case in group.get("promql_expr_test") or []:
            expr = str(case.get("expr", ""))
            try:
                at = duration_ms(case.get("eval_time", "0s"))
                got = evaluate(src, expr, at, eval_interval)
                exp = []
                for s in case.get("exp_samples") or []:
                    labels_text = str(s.get("labels", "{}")) or "{}"
                    n, lbls = parse_series(labels_text) if labels_text != "{}" else ("", {})
                    exp.append(ExprResult({**({"__name__": n} if n else {}), **lbls}, float(s.get("value", 0))))
            except PromQLError as exc:
                report.failures.append(f"    expr: {quote(expr)}, time: {format_duration_ms(at)}, err: {exc}")
                continue
            except (TestFileError, ValueError) as exc:
                report.errors.append(f"{path}: test {name}: expr {expr!r}: {exc}")
                continue
            if not _same(exp, got):
                report.failures.append(
                    f"    expr: {quote(expr)}, time: {format_duration_ms(at)},\n"
                    f"        exp: {_samples_text(exp)}\n        got: {_samples_text(got)}"
                )
    return report
