"""Alerting and recording rules against promtool: our engine computes the
firing alerts at each eval time, writes them as `alert_rule_test`
expectations, and promtool must agree; a wrong expectation fails both."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from switchman.controller.alerts.rules import load_rule_file
from switchman.controller.promql.ruletest import _run_rules
from switchman.controller.promql.testfile import duration_ms, load_input

from tests.helpers import BIN

RULES = """groups:
  - name: node
    rules:
      - record: role:node_load1:max
        expr: max by (role) (node_load1)
      - alert: HighLoad
        expr: node_load1 > 2
        for: 2m
        labels:
          severity: page
          where: "{{ $labels.host }}"
        annotations:
          summary: "load {{ $value }} on {{ $labels.host }} ({{ $value | humanize }})"
      - alert: RoleHot
        expr: role:node_load1:max > 3
        for: 1m
        keep_firing_for: 2m
        labels: {severity: ticket}
        annotations:
          description: "role {{ $labels.role }} peaked at {{ humanize $value }}"
      - alert: Down
        expr: up == 0
        labels: {severity: page}
        annotations:
          description: '{{ $labels }} is down; {{ with query "count(up == 0)" }}{{ . | first | value }}{{ end }} down'
          name: "{{ $labels.__name__ }}"
      - alert: HostSummary
        expr: max by (host, role) (node_load1) > 2
        labels:
          severity: "{{ if gt $value 3.0 }}page{{ else }}ticket{{ end }}"
        annotations:
          description: '{{ $labels }} VALUE = {{ printf "%.2f" $value }} {{ range $k, $v := $labels }}{{ $k }}={{ $v | toUpper }};{{ end }} {{- /* trimmed */ -}} {{ humanize1024 $value }}'
"""
SERIES = [
    {"series": 'node_load1{host="h1", role="web"}', "values": "1 1 2.5 2.5 2.5 2.5 1 1 4 4 4 1 1 1 1"},
    {"series": 'node_load1{host="h2", role="web"}', "values": "3+0.5x14"},
    {"series": 'node_load1{host="h3", role="db"}', "values": "0.5x14"},
    {"series": 'up{host="h1"}', "values": "1 1 0 0 1 1 1 0 0 0 1 1 1 1 1"},
]
TIMES = ["0m", "1m", "2m", "3m", "4m", "5m", "6m", "9m", "10m", "11m", "12m", "13m", "14m"]


def write(tmp: Path, mutate: bool = False) -> Path:
    (tmp / "rules.yml").write_text(RULES)
    groups = load_rule_file(tmp / "rules.yml").groups
    cases: list[dict[str, Any]] = [
        {"eval_time": t, "alertname": a} for t in TIMES for a in ("HighLoad", "RoleHot", "Down", "HostSummary")
    ]
    test = {"interval": "1m", "input_series": SERIES, "alert_rule_test": cases}
    firing = _run_rules(groups, load_input(SERIES, 60_000), test, 60_000)
    for c in cases:
        alerts = firing.get(duration_ms(c["eval_time"]), {}).get(c["alertname"], [])
        c["exp_alerts"] = [
            {"exp_labels": {k: v for k, v in a.labels.items() if k != "alertname"}, "exp_annotations": a.annotations}
            for a in alerts
        ]
    if mutate:
        c = next(c for c in cases if c["exp_alerts"])
        c["exp_alerts"][0]["exp_labels"]["severity"] = "wrong"
    doc = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            test
            | {
                "promql_expr_test": [
                    {
                        "expr": "role:node_load1:max",
                        "eval_time": "9m",
                        "exp_samples": [
                            {"labels": 'role:node_load1:max{role="db"}', "value": 0.5},
                            {"labels": 'role:node_load1:max{role="web"}', "value": 7.5},
                        ],
                    }
                ]
            }
        ],
    }
    path = tmp / ("wrong.yml" if mutate else "alerts.yml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def both(path: Path) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    theirs = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    ours = subprocess.run(
        [str(BIN / "switchman"), "rules", "test", str(path)], capture_output=True, text=True, timeout=120
    )
    return theirs, ours


def test_alert_states_agree_with_promtool(tmp_path: Path) -> None:
    path = write(tmp_path)
    doc = yaml.safe_load(path.read_text())
    fired = sum(len(c["exp_alerts"]) for c in doc["tests"][0]["alert_rule_test"])
    assert fired >= 10  # the cases exercise pending -> firing -> resolved, keep_firing_for and templates
    theirs, ours = both(path)
    assert theirs.returncode == 0, theirs.stdout[-5000:] + theirs.stderr[-2000:]
    assert ours.returncode == 0 and "SUCCESS" in ours.stdout, ours.stdout[-3000:]


def test_a_wrong_alert_expectation_fails_both(tmp_path: Path) -> None:
    theirs, ours = both(write(tmp_path, mutate=True))
    assert theirs.returncode == 1
    assert ours.returncode == 1 and "alertname:" in ours.stderr
    assert (ours.stdout, ours.stderr) == (theirs.stdout, theirs.stderr), "printed as promtool prints it"


LIMITED = """groups:
  - name: limited
    limit: 2
    rules:
      - alert: Loaded
        expr: node_load1 > 1
      - record: job:load:sum
        expr: sum by (host) (node_load1)
      - alert: FromRecord
        expr: job:load:sum > 1
"""


def test_a_group_limit_drops_a_rule_that_makes_more_than_it_allows_as_promtool_does(tmp_path: Path) -> None:
    """Two hosts loaded, then three: with three the alerting rule (limit 2) has no
    alert and the recording rule writes nothing, so the rule over it goes quiet
    too; promtool and `switchman rules test` both fail the test, naming each
    rule's error at the first evaluation it happened."""
    (tmp_path / "rules.yml").write_text(LIMITED)
    series = [
        {"series": 'node_load1{host="h1"}', "values": "2x10"},
        {"series": 'node_load1{host="h2"}', "values": "2x10"},
        {"series": 'node_load1{host="h3"}', "values": "_x5 2x5"},  # from 5m
    ]
    loaded = load_rule_file(tmp_path / "rules.yml")
    assert loaded.errors == [] and loaded.groups[0].limit == 2
    test: dict[str, Any] = {"interval": "1m", "input_series": series, "alert_rule_test": []}
    for at in ("2m", "10m"):  # at 10m the last recorded sum (4m) is out of the lookback
        test["alert_rule_test"] += [{"eval_time": at, "alertname": n} for n in ("Loaded", "FromRecord")]
    errors: list[str] = []
    firing = _run_rules(loaded.groups, load_input(series, duration_ms("1m")), test, duration_ms("1m"), errors)
    for case in test["alert_rule_test"]:
        found = firing[duration_ms(case["eval_time"])].get(case["alertname"], [])
        case["exp_alerts"] = [{"exp_labels": {k: v for k, v in a.labels.items() if k != "alertname"}} for a in found]
    assert [len(c["exp_alerts"]) for c in test["alert_rule_test"]] == [2, 2, 0, 0], test
    doc = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [test]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(doc))
    theirs = subprocess.run(
        ["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    ours = subprocess.run(
        [str(BIN / "switchman"), "rules", "test", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    first = [e for e in errors if "time: 5m0s" in e]
    assert first == [
        "    rule: Loaded, time: 5m0s, err: exceeded limit of 2 with 3 alerts",
        "    rule: job:load:sum, time: 5m0s, err: exceeded limit of 2 with 3 series",
    ]
    said = theirs.stdout + theirs.stderr
    assert theirs.returncode == 1 and all(e.strip() in said for e in first), said
    assert ours.returncode == 1 and all(e.strip() in ours.stdout + ours.stderr for e in first), (
        ours.stdout + ours.stderr
    )
