"""Alert templates rendered byte for byte as Prometheus renders them: every
template below is expanded by our renderer for every alert, written as the
``exp_annotations`` of a ``promtool test rules`` file, and promtool must pass
it (one promtool run for the whole batch). The templates use each construct
the community alert collections use: ``{{ $labels }}``, label access, Go's
printf verbs and number formatting, every ``humanize*``, ``range``/``if``/
``with``/``define``, trim markers, comments, builtins, Prometheus' string
functions, ``query`` with ``first``/``value``/``label``/``sortByLabel``, and
the error texts of templates that fail at run time."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import yaml
from switchman.controller.alerts.templates import check, expand, query_func
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.testfile import load_input

# case id -> (instance label, device label, input value)
CASES: dict[str, tuple[str, str, str]] = {
    "small": ("host-1.example.com:9100", "sda", "0.1"),
    "big": ("10.0.0.1:9100", "sdb", "1234567.891"),
    "huge": ("[::1]:9090", "nvme0n1", "1e21"),
    "negative": ("node-c", "md0", "-3.5"),
    "zero": ("node-d.lan", "sda", "0"),
    "tiny": ("db-1.prod.example.org:5432", "", "0.000123"),
    "duration": ("web-2:80", "vda", "176325.5"),
    "timestamp": ("web-3:80", "vdb", "1700000000.123"),
    "nan": ("web-4:80", "vdc", "NaN"),
    "integer": ("WEB-5.Example.COM:8080", "xvda", "42"),
}

TEMPLATES: list[str] = [
    "{{ $labels }}",
    "{{ $labels.instance }} {{ $labels.device }} {{ $labels.nope }}|",
    '{{ printf "%.2f" $value }}',
    "{{ $value }}",
    "{{ $value | humanize }} {{ humanize1024 $value }} {{ humanizePercentage $value }}",
    "{{ humanizeDuration $value }} {{ $value | humanizeTimestamp }}",
    "VALUE = {{ $value }}\n  LABELS = {{ $labels }}",
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
    "{{ range $labels }}[{{ . }}]{{ end }}{{ range $i, $e := $externalLabels }}x{{ else }}no external{{ end }}",
    "{{ if gt $value 1.0 }}high{{ else if lt $value 0.0 }}negative{{ else if eq $value 0.0 }}zero{{ else }}low{{ end }}",
    'a  {{- " b " -}}  c {{- /* a comment */ -}} d{{/* another */}}',
    "{{ with $labels.device }}device {{ . }}{{ else }}no device{{ end }}",
    '{{ define "brackets" }}[{{ . }}]{{ end }}{{ template "brackets" $labels.instance }}{{ template "brackets" }}',
    '{{ printf "%s|%d|%v|%q|%x|%X|%e|%g|%5.1f|%-8s|%08.3f|%+d|%t|%c|%o|%%" "s" 42 0.5 "q\\"t" 255 "hi" 1234.5678 1e-7 3.14159 "left" 3.14159 7 true 65 8 }}',
    '{{ printf "%d" $value }} {{ printf "%s" }} {{ printf "%s" "a" "b" 3 }} {{ printf "%s" $value }}',
    '{{ printf "%v %v %s" $labels 1.5 .Labels }} {{ printf "%6.2f%%" 12.345 }} {{ printf "%10s|%-10v|" "r" 2.5 }}',
    '{{ len $labels }} {{ index $labels "job" }} {{ print $value "x" 1 2 }} {{ println 1 "a" }}end',
    '{{ html "<a href=\'x\'>&</a>" }} {{ js "it\'s <b> = \\"q\\"" }} {{ urlquery "a b&c=d/é" }}',
    '{{ title "hello wORLD-foo_bar x.y" }} {{ toUpper "abc" }} {{ toLower "ABC" }} {{ $labels.instance | toUpper }}',
    '{{ match "^host-[0-9]" $labels.instance }} {{ reReplaceAll "(.*):(.*)" "$2 on ${1}" $labels.instance }}'
    ' {{ reReplaceAll "x*" "-" "abxd" }} {{ reReplaceAll "[aeiou]" "" "education" }}',
    '{{ safeHtml "<b>" }} {{ stripPort $labels.instance }} {{ stripDomain $labels.instance }}'
    ' {{ stripPort "[::1]:80" }} {{ stripDomain "10.0.0.1:80" }}',
    '{{ parseDuration "1h30m" }} {{ parseDuration "1d" }} {{ graphLink "rate(x[5m])" }} {{ tableLink "up == 0" }}',
    "{{ $externalLabels }}|{{ $externalURL }}|{{ .ExternalURL }}",
    '{{ (args 1 "a" 2.5).arg1 }} {{ (args 1).arg9 }} {{ args 1 "two" }}',
    '{{ and 1 0 }} {{ or 0 "" "x" }} {{ not true }} {{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ le 1.5 1.5 }} {{ ge "b" "a" }}',
    "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }} {{ $y := $value }}{{ $y }}",
    '{{ .Value }} {{ .Labels.job }} {{ $.Labels.job }} {{ $.Value | printf "%.3e" }}',
    "{{ 0.1 }} {{ 1e6 }} {{ 123456.0 }} {{ 1e-5 }} {{ 0x1F }} {{ 'a' }} {{ 1e21 }} {{ -7 }} {{ 1.5e300 }}",
    '{{ with query "sum(tmpl_metric)" }}{{ . | first | value | humanize }}{{ end }}',
    '{{ range sortByLabel "case" (query "tmpl_metric{case=~\\"small|big\\"}") }}{{ .Labels.case }}:{{ .Value }} {{ end }}',
    '{{ range sortByLabel "device" (query "tmpl_metric > 1") }}{{ label "device" . }},{{ end }}',
    '{{ (query "count(tmpl_metric)" | first).Value }} {{ query "vector(1)" | first | value }}'
    ' {{ with query "absent_metric" }}some{{ else }}none{{ end }}',
    '{{ humanize "abc" }}',
    '{{ first (query "absent_metric") }}',
    "{{ toUpper $value }}",
    "{{ eq $value 1 }}",
    "{{ index $labels 1 }}",
    '{{ template "missing" }}',
    "{{ range $value }}x{{ end }}",
    '{{ if and (gt $value 0.5) (lt $value 100.0) }}in range{{ end }}{{ if or (eq $labels.device "sda") (not $labels.device) }} sda-or-none{{ end }}',
    '{{- if ne $labels.device "" -}}\n  device={{ $labels.device }}\n{{- end }}\n',
    "{{ humanize 1234567 }} {{ humanize 0.0005 }} {{ humanize1024 1048576 }} {{ humanizeDuration 0.005 }}"
    ' {{ humanizeDuration 59.9 }} {{ humanizeDuration -90 }} {{ humanize "1e3" }} {{ humanizePercentage 0.12345 }}',
    "{{ humanizeTimestamp 0 }} {{ humanizeTimestamp -1.5 }} {{ humanizeTimestamp 1.0001 }}",
    '{{ $labels.instance | reReplaceAll ":.*" "" | title }}',
]


def _series() -> list[dict[str, str]]:
    out = []
    for case, (instance, device, value) in CASES.items():
        labels = f'case="{case}", instance="{instance}", job="node"' + (f', device="{device}"' if device else "")
        out.append({"series": f"tmpl_metric{{{labels}}}", "values": value})
    return out


def _labels(case: str) -> dict[str, str]:
    instance, device, _ = CASES[case]
    labels = {"__name__": "tmpl_metric", "case": case, "instance": instance, "job": "node"}
    return labels | ({"device": device} if device else {})


def _write(tmp: Path) -> Path:
    annotations = {f"t{i:02d}": t for i, t in enumerate(TEMPLATES)}
    rules = {
        "groups": [
            {
                "name": "templates",
                "rules": [
                    {
                        "alert": f"Tmpl_{case}",
                        "expr": f'tmpl_metric{{case="{case}"}}',
                        "labels": {"host": "{{ $labels.instance | stripPort }}", "severity": "warning"},
                        "annotations": annotations,
                    }
                    for case in CASES
                ],
            }
        ]
    }
    (tmp / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False, allow_unicode=True))
    series = _series()
    query = query_func(Evaluator(load_input(list(series), 60_000)), 0)
    cases: list[dict[str, Any]] = []
    for case, (_, _, value) in CASES.items():
        labels, v, name = _labels(case), float(value), f"Tmpl_{case}"
        exp_labels = {k: x for k, x in labels.items() if k != "__name__"}
        exp_labels |= {
            "host": expand("{{ $labels.instance | stripPort }}", labels, v, alert=name),
            "severity": "warning",
        }
        from switchman.controller.alerts.gotemplate.prometheus import Context

        ctx = Context(query=query)
        rendered = {k: expand(t, labels, v, ctx, alert=name) for k, t in annotations.items()}
        cases.append(
            {
                "eval_time": "0m",
                "alertname": name,
                "exp_alerts": [{"exp_labels": exp_labels, "exp_annotations": rendered}],
            }
        )
    doc = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": cases}],
    }
    path = tmp / "test.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000))
    return path


def test_every_template_renders_byte_for_byte_as_promtool_renders_it(tmp_path: Path) -> None:
    assert all(check(t) is None for t in TEMPLATES)
    path = _write(tmp_path)
    r = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-20000:] + r.stderr[-2000:]


def test_nan_renders_as_go_prints_it() -> None:
    assert expand("{{ $value }} {{ humanize $value }}", {}, math.nan) == "NaN NaN"
