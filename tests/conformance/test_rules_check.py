"""`switchman rules check` against `promtool check rules`: the same verdict on
good and bad files (one batch of files, each checked by both tools in one run
of each), and messages with file:line:column."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from switchman.controller.alerts.rules import load_rule_file

from tests.helpers import BIN

GOOD = """groups:
  - name: node
    interval: 30s
    rules:
      - record: role:node_load1:avg
        expr: avg by (role) (node_load1)
      - alert: HighLoad
        expr: node_load1 > 2
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations:
          summary: "load {{ $value | humanize }} on {{ $labels.host }}"
"""
BAD = {
    "expr": (
        "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum(rate(y[5m])\n",
        "5:30: rule 'x': expected ')'",
    ),
    "duration": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        for: soon\n",
        '6:14: for: not a valid duration string: "soon"',
    ),
    "field": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        severity: page\n",
        "6:9: unknown field 'severity'",
    ),
    "record_name": (
        "groups:\n  - name: a\n    rules:\n      - record: 'a b'\n        expr: up\n",
        "4:17: record: 'a b' is not a valid metric name",
    ),
    "both": (
        "groups:\n  - name: a\n    rules:\n      - record: r\n        alert: A\n        expr: up\n",
        "needs exactly one of `record` and `alert`",
    ),
    "types": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: rate(up)\n",
        "expected type range vector",
    ),
    "dup_group": ("groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n", "group name 'a' is repeated"),
    "yaml": ("groups:\n  - name: [a\n", "invalid YAML"),
}


def promtool_ok(path: Path) -> bool:
    return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, timeout=60).returncode == 0


def test_a_good_file_passes_both(tmp_path: Path) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD)
    result = load_rule_file(path)
    assert result.errors == [] and [r.name for g in result.groups for r in g.rules] == [
        "role:node_load1:avg",
        "HighLoad",
    ]
    assert result.groups[0].interval_ms == 30_000 and result.groups[0].rules[1].for_ms == 300_000
    assert promtool_ok(path)
    r = subprocess.run(
        [str(BIN / "switchman"), "rules", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "SUCCESS: 2 rules found" in r.stdout


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_fail_both_with_a_position(tmp_path: Path, case: str) -> None:
    text, message = BAD[case]
    path = tmp_path / f"{case}.yml"
    path.write_text(text)
    assert not promtool_ok(path)
    r = subprocess.run(
        [str(BIN / "switchman"), "rules", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1 and message in r.stdout and str(path) in r.stdout, r.stdout


R = "groups:\n  - name: a\n    rules:\n"


def _alert(extra: str, expr: str = "up == 0") -> str:
    return R + f"      - alert: X\n        expr: {expr}\n" + extra


def _annotation(template: str) -> str:
    return _alert(f"        annotations:\n          a: {template}\n")


# name -> (file text, promtool accepts it)
VERDICTS: dict[str, tuple[str, bool]] = {
    "empty_rules": ("groups:\n  - name: a\n    rules:\n", True),
    "no_rules_key": ("groups:\n  - name: a\n", True),
    "empty_rules_list": (R.replace("rules:\n", "rules: []\n"), True),
    "empty_file": ("", True),
    "empty_mapping": ("{}\n", True),
    "null_groups": ("groups:\n", True),
    "null_rule_item": (R + "      -\n", True),
    "second_document_ignored": ("groups: []\n---\ngroups: []\n", True),
    "range_vector_expr": (R + "      - record: x\n        expr: up[5m]\n", True),
    "string_expr": (_alert("", expr="'\"foo\"'"), True),
    "limit": (R.replace("    rules:", "    limit: 10\n    rules:") + "      - alert: X\n        expr: up\n", True),
    "limit_not_int": (R.replace("    rules:", "    limit: ten\n    rules:"), False),
    "query_offset_is_not_2_42": (R.replace("    rules:", "    query_offset: 1m\n    rules:"), False),
    "durations": (_alert("        for: 1h30m\n        keep_firing_for: 500ms\n"), True),
    "zero_duration": (_alert("        for: 0\n"), True),
    "negative_duration": (_alert("        for: -1m\n"), False),
    "interval_without_unit": (R.replace("    rules:", "    interval: 5\n    rules:"), False),
    "annotation_name": (_alert("        annotations:\n          bad-name: x\n"), False),
    "label___name__": (_alert("        labels:\n          __name__: x\n"), False),
    "scalar_label_values": (_alert("        labels:\n          a: 1\n          b: true\n"), True),
    "list_label_value": (_alert("        labels:\n          a: [1]\n"), False),
    "annotations_not_mapping": (_alert("        annotations: [a]\n"), False),
    "recording_empty_annotations_zero_for": (
        R + "      - record: x\n        expr: up\n        annotations: {}\n        for: 0s\n",
        True,
    ),
    "recording_labels_not_templates": (
        R + "      - record: x\n        expr: up\n        labels:\n          a: '{{ foo }}'\n",
        True,
    ),
    "recording_empty_name": (R + "      - record: ''\n        expr: up\n", False),
    "alert_any_name": (R + "      - alert: 'weird name!'\n        expr: up\n", True),
    "no_expr": (R + "      - alert: X\n", False),
    "duplicate_key": (_alert("        expr: down\n"), False),
    "empty_group_name": ("groups:\n  - name: ''\n    rules: []\n", False),
    "no_group_name": ("groups:\n  - rules: []\n", False),
    "unknown_top_key": ("groups: []\nfoo: 1\n", False),
    "groups_not_list": ("groups: {a: 1}\n", False),
    "mixed_case_keywords": (_alert("", expr="SUM BY (job) (up) > 0 AND ON (job) up"), True),
    "label_template": (_alert("        labels:\n          a: '{{ $labels.job }}'\n"), True),
    "label_template_bad": (_alert("        labels:\n          a: '{{ foo }}'\n"), False),
    "labels_map": (_annotation("'{{ $labels }} {{ $labels.instance }} {{ printf \"%.2f\" $value }}'"), True),
    "humanize_all": (
        _annotation(
            "'{{ humanize $value }}{{ humanize1024 1 }}{{ humanizeDuration 1 }}{{ humanizePercentage 1 }}"
            "{{ humanizeTimestamp 1 }}'"
        ),
        True,
    ),
    "range_if_with_define": (
        _annotation(
            "'{{ range $k, $v := $labels }}{{ $k }}{{ end }}{{ if gt $value 1.0 }}a{{ else if true }}b"
            '{{ else }}c{{ end }}{{ with $labels.x }}{{ . }}{{ end }}{{ define "t" }}x{{ end }}{{ template "t" }}\''
        ),
        True,
    ),
    "trim_and_comments": (_annotation("'{{- /* c */ -}} {{- $labels -}} {{/* d */}}'"), True),
    "run_time_errors_parse": (_annotation('\'{{ humanize "x" }}{{ .Nope }}{{ template "missing" }}\''), True),
    "external": (_annotation("'{{ $externalURL }}{{ externalURL }}{{ pathPrefix }}{{ $externalLabels.x }}'"), True),
    "query_functions": (
        _annotation(
            '\'{{ with query "up" }}{{ . | first | value }}{{ range sortByLabel "a" . }}{{ label "a" . }}'
            "{{ strvalue . }}{{ end }}{{ end }}{{ (args 1).arg0 }}'"
        ),
        True,
    ),
    "string_functions": (
        _annotation(
            '\'{{ title "a" | toUpper | toLower }}{{ match "a" "b" }}{{ reReplaceAll "a" "b" "c" }}'
            '{{ safeHtml "x" }}{{ stripPort "a:1" }}{{ stripDomain "a.b" }}{{ parseDuration "1m" }}'
            '{{ graphLink "up" }}{{ tableLink "up" }}{{ toTime 1 }}\''
        ),
        True,
    ),
    "builtins": (
        _annotation(
            '\'{{ and 1 2 }}{{ or 1 2 }}{{ not 1 }}{{ len $labels }}{{ index $labels "a" }}{{ print 1 }}'
            '{{ println 1 }}{{ html "<" }}{{ js "x" }}{{ urlquery "x" }}{{ eq 1 1 }}{{ ne 1 2 }}{{ lt 1 2 }}'
            '{{ le 1 2 }}{{ gt 1 2 }}{{ ge 1 2 }}{{ slice "abc" 1 }}\''
        ),
        True,
    ),
    "undefined_function": (_annotation("'{{ foo }}'"), False),
    "tmpl_is_console_only": (_annotation("'{{ tmpl \"x\" . }}'"), False),
    "now_is_not_2_42": (_annotation("'{{ now }}'"), False),
    "undefined_variable": (_annotation("'{{ $x }}'"), False),
    "define_has_no_labels": (_annotation("'{{ define \"t\" }}{{ $labels }}{{ end }}'"), False),
    "unclosed_if": (_annotation("'{{ if true }}x'"), False),
    "unclosed_action": (_annotation("'{{ $labels '"), False),
    "bad_comment": (_annotation("'{{/* c */ x }}'"), False),
    "break_outside_range": (_annotation("'{{ break }}'"), False),
    "else_with_is_not_go_1_19": (_annotation("'{{ with 1 }}{{ else with 2 }}{{ end }}'"), False),
    "constant_in_pipeline": (_annotation("'{{ $value | 1 }}'"), False),
    "unexpected_end": (_annotation("'{{ end }}'"), False),
    "bad_number": (_annotation("'{{ 1x }}'"), False),
    "unterminated_string": (_annotation("'{{ \"abc }}'"), False),
    # expressions: which words and characters make a metric name, which regular expressions Go takes
    "name_set_twice": (_alert("", expr="'m{__name__=\"a\"} > 0'"), False),
    "name_regex_set_twice": (_alert("", expr="'m{__name__=~\"a\"} > 0'"), False),
    "name_matcher_alone": (_alert("", expr='\'{__name__="a", job="x"} > 0\''), True),
    "dot_in_name": (_alert("", expr="m.b > 0"), False),
    "colon_names": (_alert("", expr="':a + :: + a:b:c + b: > 0'"), True),
    "colon_in_subquery": (_alert("", expr="'max_over_time(m[5m:1m]) > 0'"), True),
    "keyword_on_as_name": (_alert("", expr="'on > 0'"), False),
    "keyword_bool_as_name": (_alert("", expr="'BOOL > 0'"), False),
    "keyword_group_left_as_name": (_alert("", expr="'group_left > 0'"), False),
    "keyword_atan2_as_name": (_alert("", expr="'atan2 > 0'"), False),
    "keywords_as_names": (_alert("", expr="'sum + by + without + offset + start + end + count > 0'"), True),
    "keywords_as_label_names": (_alert("", expr='\'m{on="a", bool="b", by="c"} > 0\''), True),
    "nan_with_braces": (_alert("", expr="'nan{a=\"b\"} > 0'"), False),
    "go_refuses_angle_named_group": (_alert("", expr="'m{a=~\"(?<n>x)\"} > 0'"), False),
    "go_refuses_backslash_C": (_alert("", expr="'m{a=~\"\\\\C\"} > 0'"), False),
    "angle_in_class_or_quoted": (_alert("", expr="'m{a=~\"[(?<]|\\\\Q(?<\\\\E|(?P<n>x)\"} > 0'"), True),
}


def _verdicts(tool: list[str], paths: list[Path]) -> dict[str, bool]:
    """Each file's verdict from one run of ``tool`` over all of them."""
    out = subprocess.run([*tool, *map(str, paths)], capture_output=True, text=True, timeout=120).stdout
    verdicts: dict[str, bool] = {}
    for block in out.split("Checking ")[1:]:
        name, _, rest = block.partition("\n")
        verdicts[Path(name.strip()).stem] = "SUCCESS" in rest.split("Checking ")[0]
    return verdicts


def test_every_file_gets_promtools_verdict(tmp_path: Path) -> None:
    paths = []
    for name, (text, _) in VERDICTS.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(text)
        paths.append(path)
    theirs = _verdicts(["promtool", "check", "rules"], paths)
    ours = _verdicts([str(BIN / "switchman"), "rules", "check"], paths)
    expected = {name: ok for name, (_, ok) in VERDICTS.items()}
    assert theirs == expected  # the table says what promtool 2.42 does
    assert {k: v for k, v in ours.items() if v != theirs[k]} == {}


def test_a_template_error_names_the_file_rule_annotation_and_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(_annotation("'ok {{ $labels.x }} {{ humanise $value }}'"))
    (error,) = load_rule_file(path).errors
    assert error == (f"{path}:7:37: rule 'X': annotation 'a': template: __alert_X:1: function \"humanise\" not defined")
