"""The Go template language on its own (no promtool): Go's fmt, parse-time
errors with positions, Prometheus' functions, ``query``, and a reload that
finds a bad template keeping the running rules. The byte-for-byte checks
against promtool are in tests/conformance/test_templates_promtool.py."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from switchman.controller.alerts.gotemplate.gofmt import go_float, sprintf
from switchman.controller.alerts.gotemplate.prometheus import Context, parse_duration, strip_domain, strip_port
from switchman.controller.alerts.manager import RuleManager
from switchman.controller.alerts.templates import check, expand, query_func
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.testfile import load_input
from switchman.controller.store.abc import Store


@pytest.mark.parametrize(
    ("fmt", "args", "out"),
    [
        ("%.2f", [0.125], "0.12"),
        (
            "%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%#x",
            [1, 2, 3, 4, 5, 255, 255, 8, 5, 255],
            "1|    2|3    |00004|+5|ff|FF|10|101|0xff",
        ),
        (
            "%e|%E|%.3e|%g|%.3g|%G",
            [1234.5678, 1e-7, 0.0001234, 1e21, 1234.5678, 1e-7],
            "1.234568e+03|1.000000E-07|1.234e-04|1e+21|1.23e+03|1E-07",
        ),
        ("%s|%q|%v|%10s|%-4s|%.2s|%x", ["a", 'b"', "c", "r", "l", "trunc", "hi"], 'a|"b\\""|c|         r|l   |tr|6869'),
        ("%t|%v|%c|%q|%U", [True, None, 65, 66, 0x1F600], "true|<nil>|A|'B'|U+1F600"),
        ("%d|%s|%f", ["x", 1.5, "y"], "%!d(string=x)|%!s(float64=1.5)|%!f(string=y)"),
        ("%s %s", ["a"], "a %!s(MISSING)"),
        ("%s", ["a", 2, "b"], "a%!(EXTRA int=2, string=b)"),
        ("%v|%f|%5.1f", [float("inf"), float("-inf"), float("nan")], "+Inf|-Inf|  NaN"),
        ("100%%", [], "100%"),
    ],
)
def test_printf_formats_as_go(fmt: str, args: list[object], out: str) -> None:
    assert sprintf(fmt, args) == out


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1e-5, "1e-05"),
        (-0.0, "-0"),
        (2.5e-4, "0.00025"),
    ],
)
def test_floats_print_as_go(value: float, text: str) -> None:
    assert go_float(value) == text


def test_labels_print_as_a_go_map_with_sorted_keys() -> None:
    labels = {"job": "node", "instance": "h:9100", "__name__": "up"}
    assert (
        expand("{{ .Labels }}|{{ $.Labels }}", labels, 1)
        == "map[__name__:up instance:h:9100 job:node]|" + "map[__name__:up instance:h:9100 job:node]"
    )
    assert expand("{{ $labels }}", labels, 1) == "map[__name__:up instance:h:9100 job:node]"
    assert expand("{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}", {"b": "2", "a": "1"}, 0) == "a=1 b=2 "


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("{{ foo }}", 'function "foo" not defined', 3),
        ("x {{ $nope }}", 'undefined variable "$nope"', 5),
        ("{{ if true }}", "unexpected EOF", 13),
        ("{{ end }}", "unexpected {{end}}", 7),  # Go reports where it stopped: the closing delimiter
        ("{{ 1x }}", 'bad number syntax: "1x"', 3),
        ("{{/* c */ x }}", "comment ends before closing delimiter", 2),
        ('{{ tmpl "a" . }}', 'function "tmpl" not defined', 3),
    ],
)
def test_parse_errors_are_gos_with_a_position(text: str, message: str, column: int) -> None:
    problem = check(text, "A")
    assert problem is not None and problem.message == f"template: __alert_A:1: {message}"
    assert (problem.line, problem.column) == (1, column)


def test_trim_markers_comments_define_and_else_if() -> None:
    text = '{{ define "t" }}<{{ . }}>{{ end }}a  {{- /* c */ -}}  b {{ template "t" 1 }}'
    assert expand(text, {}, 0) == "ab <1>"
    choose = "{{ if lt $value 0.0 }}neg{{ else if eq $value 0.0 }}zero{{ else }}pos{{ end }}"
    assert [expand(choose, {}, v) for v in (-1, 0, 1)] == ["neg", "zero", "pos"]


def test_run_time_errors_render_as_prometheus_renders_them() -> None:
    out = expand('{{ humanize "x" }}', {}, 0, alert="A")
    assert out == (
        "<error expanding template: error executing template __alert_A: template: __alert_A:1:115: "
        'executing "__alert_A" at <humanize "x">: error calling humanize: strconv.ParseFloat: parsing "x": invalid syntax>'
    )


def test_prometheus_string_functions() -> None:
    assert strip_port("[::1]:80") == "::1" and strip_port("host") == "host"
    assert strip_domain("a.b.c:80") == "a:80" and strip_domain("10.0.0.1:80") == "10.0.0.1:80"
    assert parse_duration("1h30m") == 5400 and parse_duration("0") == 0
    text = '{{ reReplaceAll "(.*):(.*)" "$2@${1}" "h:1" }} {{ title "a b-c" }} {{ "x y" | urlquery }} {{ match "^a" "abc" }}'
    assert expand(text, {}, 0) == "1@h A B-C x+y true"


def test_external_labels_and_url() -> None:
    ctx = Context(external_labels={"dc": "eu"}, external_url="https://prom.example.com/prefix")
    text = "{{ $externalLabels.dc }} {{ externalURL }} {{ pathPrefix }} {{ $externalURL }}"
    assert expand(text, {}, 0, ctx) == "eu https://prom.example.com/prefix /prefix https://prom.example.com/prefix"


def test_query_runs_on_the_evaluator() -> None:
    src = load_input([{"series": 'up{job="a"}', "values": "1"}, {"series": 'up{job="b"}', "values": "0"}], 60_000)
    ctx = Context(query=query_func(Evaluator(src), 0))
    text = '{{ range sortByLabel "job" (query "up") }}{{ label "job" . }}={{ value . }} {{ end }}{{ (query "sum(up)" | first).Value }}'
    assert expand(text, {}, 0, ctx) == "a=1 b=0 1"


def test_a_reload_with_a_bad_template_keeps_the_running_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    good = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          d: '{{ $labels }}'\n"
    rules.write_text(good)
    manager = RuleManager(cast(Store, None), Evaluator(load_input([], 60_000)), lambda: 0, [str(rules)])
    assert manager.load() == [] and [r.name for g in manager.groups for r in g.rules] == ["A"]
    rules.write_text(good.replace("alert: A", "alert: B").replace("$labels", "humanise $value"))
    errors = manager.load()
    assert (
        len(errors) == 1 and 'function "humanise" not defined' in errors[0] and "rule 'B': annotation 'd'" in errors[0]
    )
    assert [r.name for g in manager.groups for r in g.rules] == ["A"]
