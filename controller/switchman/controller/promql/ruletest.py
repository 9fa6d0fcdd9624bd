"""``switchman rules test FILE...``: rule unit tests in ``promtool test rules``
format. This version runs ``promql_expr_test`` cases (input series in the
``a+bxn`` / ``_`` notation, ``eval_time``, ``exp_samples``) and compares exactly,
as promtool does; files that need rule evaluation (``rule_files`` or
``alert_rule_test``) are refused with a clear message until the rule engine
lands."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.testfile import (
    ExprResult,
    TestFileError,
    duration_ms,
    evaluate,
    format_labels,
    load_input,
    parse_series,
)


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
    if doc.get("rule_files"):
        report.errors.append(
            f"{path}: rule_files: recording and alerting rules cannot be evaluated by this version yet"
        )
    for i, group in enumerate(doc.get("tests") or []):
        name = group.get("name") or f"#{i + 1}"
        if group.get("alert_rule_test"):
            report.errors.append(f"{path}: test {name}: alert_rule_test needs the rule engine, not in this version yet")
            continue
        try:
            interval = duration_ms(group.get("interval", doc.get("evaluation_interval", "1m")))
            src = load_input(group.get("input_series") or [], interval)
        except (TestFileError, PromQLError, ValueError) as exc:
            report.errors.append(f"{path}: test {name}: input_series: {exc}")
            continue
        for case in group.get("promql_expr_test") or []:
            expr = str(case.get("expr", ""))
            try:
                at = duration_ms(case.get("eval_time", "0s"))
                got = evaluate(src, expr, at)
                exp = []
                for s in case.get("exp_samples") or []:
                    labels_text = str(s.get("labels", "{}")) or "{}"
                    n, lbls = parse_series(labels_text) if labels_text != "{}" else ("", {})
                    exp.append(ExprResult({**({"__name__": n} if n else {}), **lbls}, float(s.get("value", 0))))
            except (TestFileError, PromQLError, ValueError) as exc:
                report.errors.append(f"{path}: test {name}: expr {expr!r}: {exc}")
                continue
            if not _same(exp, got):
                report.failures.append(
                    f"    expr: {expr!r}, time: {case.get('eval_time')},\n"
                    f"        exp: {', '.join(f'{format_labels(r.labels)} {r.value!r}' for r in exp) or '(none)'}\n"
                    f"        got: {', '.join(f'{format_labels(r.labels)} {r.value!r}' for r in got) or '(none)'}"
                )
    return report
