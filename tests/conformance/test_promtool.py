"""Differential conformance with Prometheus itself: our evaluator computes
every expected sample, writes them as `promtool test rules` files, and
Debian's promtool must agree bit for bit. Mutated expectations must fail
under both."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from switchman.controller.promql.testfile import ExprResult, almost_equal, evaluate, format_labels, load_input

from tests.helpers import BIN

COUNTERS = [
    {"series": 'http_requests_total{job="api", instance="a", code="200"}', "values": "0+10x20"},
    {"series": 'http_requests_total{job="api", instance="b", code="200"}', "values": "0+7x8 3+7x11"},
    {"series": 'http_requests_total{job="api", instance="a", code="500"}', "values": "0+1x20"},
    {"series": 'http_requests_total{job="web", instance="c", code="200"}', "values": "5 _x5 25+3x13"},
]
GAUGES = [
    # dyadic values: promtool adds a group's members in no fixed order, so sums must not depend on it
    {"series": 'node_load1{host="h1", role="web"}', "values": "0.5 0.75 1.25 3.5 2.25 1 0.75 1 1.5 2.5 0.25"},
    {"series": 'node_load1{host="h2", role="web"}', "values": "1+0.25x10"},
    {"series": 'node_load1{host="h3", role="db"}', "values": "4-0.5x10"},
    {"series": 'node_memory_MemTotal_bytes{host="h1"}', "values": "1000x10"},
    {"series": 'node_memory_MemTotal_bytes{host="h2"}', "values": "2000x10"},
    {"series": 'node_memory_MemAvailable_bytes{host="h1"}', "values": "500+10x10"},
    {"series": 'node_memory_MemAvailable_bytes{host="h2"}', "values": "1500-20x10"},
    {"series": 'host_info{host="h1", dc="eu"}', "values": "1x10"},
    {"series": 'host_info{host="h2", dc="us"}', "values": "1x10"},
]
BUCKETS = [
    {"series": f'req_seconds_bucket{{le="{le}", job="api"}}', "values": f"0+{n}x10"}
    for le, n in (("0.1", 3), ("0.5", 8), ("1", 12), ("+Inf", 15))
]

CASES: list[tuple[str, list[dict[str, str]], list[str]]] = [
    (
        "counters",
        COUNTERS,
        [
            "rate(http_requests_total[5m])",
            "irate(http_requests_total[5m])",
            "increase(http_requests_total[3m])",
            "delta(http_requests_total[4m])",
            # promtool adds a group's members in no fixed order: sums of inexact rates are rounded
            "round(sum by (job) (rate(http_requests_total[5m])), 1e-9)",
            "round(sum without (instance, code) (rate(http_requests_total[5m])), 1e-9)",
            'rate(http_requests_total{code=~"5.."}[5m]) / ignoring(code) rate(http_requests_total{code="200"}[5m])',
            "resets(http_requests_total[10m])",
            "changes(http_requests_total[10m])",
            "topk(2, rate(http_requests_total[5m]))",
            "bottomk(1, rate(http_requests_total[5m]))",
            "count by (job) (http_requests_total)",
            "http_requests_total offset 2m",
            "rate(http_requests_total[5m] offset 3m)",
            'absent(http_requests_total{job="nope"})',
            'absent_over_time(http_requests_total{job="nope", code="200"}[5m])',
            "deriv(http_requests_total[5m])",
            "predict_linear(http_requests_total[5m], 600)",
        ],
    ),
    (
        "gauges",
        GAUGES,
        [
            "avg_over_time(node_load1[5m])",
            "min_over_time(node_load1[5m])",
            "max_over_time(node_load1[5m])",
            "sum_over_time(node_load1[5m])",
            "count_over_time(node_load1[5m])",
            "last_over_time(node_load1[5m])",
            "stddev_over_time(node_load1[10m])",
            "quantile_over_time(0.9, node_load1[10m])",
            "avg by (role) (node_load1)",
            "max by (role) (node_load1)",
            "quantile(0.5, node_load1)",
            "round(stddev(node_load1), 1e-9)",
            "node_load1 > 1",
            "node_load1 > bool 1",
            "2 * node_load1 + 1",
            "node_load1 ^ 2 - node_load1 % 0.3",
            "-node_load1",
            "abs(-node_load1)",
            "clamp_min(node_load1, 1)",
            "clamp_max(node_load1, 1)",
            "round(node_load1, 0.5)",
            "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
            "node_memory_MemAvailable_bytes / on(host) group_left(dc) host_info",
            'node_load1 and on(host) host_info{dc="eu"}',
            "node_load1 unless on(host) host_info",
            'node_load1{role="db"} or node_memory_MemTotal_bytes',
            "vector(time())",
            "sum(node_load1) by (role) > bool 2",
            "scalar(sum(node_load1)) * node_memory_MemTotal_bytes",
            "sqrt(node_memory_MemTotal_bytes)",
        ],
    ),
    (
        "histograms",
        BUCKETS,
        [
            "histogram_quantile(0.9, rate(req_seconds_bucket[5m]))",
            "round(histogram_quantile(0.5, sum by (le) (rate(req_seconds_bucket[5m]))), 1e-9)",
            "histogram_quantile(0.99, req_seconds_bucket)",
        ],
    ),
    (
        "staleness",
        [
            {"series": 'gone{host="a"}', "values": "1+1x4 stale"},  # a marker at 5m: gone from then on
            {"series": 'flap{host="b"}', "values": "1x6 stale 3 4 5"},  # gone at 7m, back at 8m
            {"series": 'gone{host="c"}', "values": "2x10"},
        ],
        [
            "gone",
            "flap",
            "sum(gone)",
            "count_over_time(gone[10m])",
            "count_over_time(gone[3m])",
            "max_over_time(flap[3m])",
            "rate(flap[5m])",
            "last_over_time(gone[10m])",
        ],
    ),
]
EVAL_TIMES = ["5m", "8m", "10m"]


def expectation(results: list[ExprResult]) -> list[dict[str, Any]]:
    return [{"labels": format_labels(r.labels), "value": r.value} for r in results]


def write_test_file(path: Path, name: str, series: list[dict[str, str]], exprs: list[str], mutate: bool = False) -> int:
    src = load_input(series, 60_000)
    cases = []
    for expr in exprs:
        for at in EVAL_TIMES:
            minutes = int(at[:-1])
            samples = expectation(evaluate(src, expr, minutes * 60_000))
            if mutate and samples:
                samples[0]["value"] = float(samples[0]["value"]) + 1.0
            cases.append({"expr": expr, "eval_time": at, "exp_samples": samples})
    doc = {
        "evaluation_interval": "1m",
        "tests": [{"name": name, "interval": "1m", "input_series": series, "promql_expr_test": cases}],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return len(cases)


@pytest.mark.parametrize(("name", "series", "exprs"), CASES, ids=[c[0] for c in CASES])
def test_promtool_agrees_with_our_evaluator(
    tmp_path: Path, name: str, series: list[dict[str, str]], exprs: list[str]
) -> None:
    path = tmp_path / f"{name}.yml"
    n = write_test_file(path, name, series, exprs)
    r = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"promtool disagrees on {name} ({n} cases):\n{r.stdout[-6000:]}{r.stderr[-2000:]}"
    ours = subprocess.run(
        [str(BIN / "switchman"), "rules", "test", str(path)], capture_output=True, text=True, timeout=120
    )
    assert ours.returncode == 0 and "SUCCESS" in ours.stdout, ours.stdout[-3000:]


def test_a_wrong_expectation_fails_under_promtool(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yml"
    write_test_file(path, "wrong", GAUGES, ["node_load1", "sum(node_load1)"], mutate=True)
    r = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "FAILED" in (r.stdout + r.stderr)
    ours = subprocess.run(
        [str(BIN / "switchman"), "rules", "test", str(path)], capture_output=True, text=True, timeout=120
    )
    assert ours.returncode == 1 and "sum(node_load1)" in ours.stderr
    # printed as promtool prints it, byte for byte: the failures on stderr, the rest on stdout
    assert (ours.stdout, ours.stderr) == (r.stdout, r.stderr)
    # and our own comparison sees the same difference
    src = load_input(GAUGES, 60_000)
    got = evaluate(src, "sum(node_load1)", 5 * 60_000)[0].value
    assert not almost_equal(got, got + 1.0) and almost_equal(got, got)
