"""The rest of the language against promtool 2.42: keywords in any case, the
``@`` modifier, subqueries, negative offsets, label and date functions,
trigonometry, count_values, sorting, RE2 regular expressions and the edge
values (NaN, ±Inf, stale markers, duplicate ``le`` spellings, huge and tiny
floats). Our evaluator writes every expectation; one promtool run over one
file must agree with all of them."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
import yaml
from switchman.controller.promql import parse
from switchman.controller.promql.parser import value_type
from switchman.controller.promql.testfile import ExprResult, evaluate, format_labels, load_input

from tests.helpers import BIN

Series = list[dict[str, str]]

WEB = [
    {"series": 'http_requests_total{job="api", instance="a", path="/v1/users"}', "values": "0+10x30"},
    {"series": 'http_requests_total{job="api", instance="b", path="/v1/Orders"}', "values": "0+7x30"},
    {"series": 'http_requests_total{job="web", instance="c", path="/health"}', "values": "5+3x30"},
    {"series": 'http_requests_total{job="web", instance="d", path="/tail/Me"}', "values": "1x30"},
    {"series": 'node_load1{host="h1", role="web"}', "values": "0.5 0.75 1.25 3.5 2.25 1 0.75 1 1.5 2.5 0.25 1x20"},
    {"series": 'node_load1{host="h2", role="db"}', "values": "1+0.25x30"},
    {"series": 'host_info{host="h1", dc="eu"}', "values": "1x30"},
    {"series": 'host_info{host="h2", dc="us"}', "values": "1x30"},
]
EDGES = [
    {"series": 'edge{kind="nan"}', "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
    {"series": 'edge{kind="inf"}', "values": "Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf"},
    {"series": 'edge{kind="plus_inf"}', "values": "+Inf +Inf +Inf +Inf +Inf +Inf +Inf +Inf +Inf +Inf +Inf"},
    {"series": 'edge{kind="minus_inf"}', "values": "-inf -inf -inf -inf -inf -inf -inf -inf -inf -inf -inf"},
    {"series": 'edge{kind="lower_nan"}', "values": "nan nan nan nan nan nan nan nan nan nan nan"},
    {"series": 'edge{kind="huge"}', "values": "1.7976931348623157e308x10"},
    {"series": 'edge{kind="tiny"}', "values": "5e-324x10"},
    {"series": 'edge{kind="neg"}', "values": "-2.5x10"},
    {"series": 'edge{kind="zero"}', "values": "0x10"},
    {"series": 'edge{kind="half"}', "values": "0.5x10"},
    {"series": 'edge{kind="big_round"}', "values": "2.5e15x10"},
    {"series": 'mixed{kind="nan_first"}', "values": "NaN 0 1 NaN 5 2x5"},
    {"series": 'mixed{kind="stale_mid"}', "values": "3 4 stale 1 2 stale _ 7 8 9 10"},
]
BUCKETS = [
    # le spelled three ways for 0.2: one bucket whose counts add up
    {"series": 'lat_bucket{le="0.1", job="a"}', "values": "0+1x10"},
    {"series": 'lat_bucket{le="0.2", job="a"}', "values": "0+2x10"},
    {"series": 'lat_bucket{le="2e-1", job="a", x="1"}', "values": "0+2x10"},
    {"series": 'lat_bucket{le="1", job="a"}', "values": "0+5x10"},
    {"series": 'lat_bucket{le="+Inf", job="a"}', "values": "0+6x10"},
    {"series": 'lat_bucket{le="0.5", job="b"}', "values": "0+1x10"},
    {"series": 'lat_bucket{le="5.0e-1", job="b"}', "values": "0+3x10"},
    {"series": 'lat_bucket{le="Inf", job="b"}', "values": "0+4x10"},
    {"series": 'lat_bucket{le="1", job="nan"}', "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
    {"series": 'lat_bucket{le="+Inf", job="nan"}', "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
    {"series": 'lat_bucket{le="1", job="noinf"}', "values": "1x10"},
    {"series": 'lat_bucket{le="-1", job="neg"}', "values": "0+2x10"},
    {"series": 'lat_bucket{le="+Inf", job="neg"}', "values": "0+3x10"},
]
TIME = [  # values are Unix times: date functions read them
    {"series": 'boot_time{host="a"}', "values": "0x10"},
    {"series": 'boot_time{host="b"}', "values": "951782400x10"},  # 2000-02-29 (leap day)
    {"series": 'boot_time{host="c"}', "values": "1709251199x10"},  # 2024-02-29 23:59:59
    {"series": 'boot_time{host="d"}', "values": "-86401x10"},  # 1969-12-30 23:59:59
    {"series": 'boot_time{host="e"}', "values": "4102444800.9x10"},  # 2100-01-01 (not leap)
    {"series": 'boot_time{host="f"}', "values": "1e10x10"},  # the year 2286
]

KEYWORDS = [
    "SUM BY (job) (http_requests_total)",
    "Sum(http_requests_total) By (job)",
    "max WITHOUT (instance, path) (http_requests_total)",
    "AVG(node_load1)",
    "COUNT(http_requests_total) BY (job)",
    "TOPK(1, http_requests_total)",
    "bottomK(2, http_requests_total)",
    "Quantile(0.5, node_load1)",
    "node_load1 * ON(host) GROUP_LEFT(dc) host_info",
    "node_load1 * IGNORING(dc) Group_Left host_info",
    "host_info * on(host) group_right(role) node_load1",
    "node_load1 > BOOL 1",
    "node_load1 AND host_info",
    "node_load1 Or http_requests_total",
    'node_load1 UNLESS ON(host) host_info{dc="eu"}',
    "http_requests_total OFFSET 2m",
    "round(1 ATAN2 node_load1, 1e-12)",
    "STDDEV(node_load1) + STDVAR(node_load1)",
    "GROUP(http_requests_total) by (job)",
    'count_values("value", node_load1)',
    'COUNT_VALUES by (job) ("n", http_requests_total)',
    'count_values without (instance) ("v", http_requests_total)',
]
MODIFIERS = [
    "http_requests_total @ 300",
    "http_requests_total @ 300.5 offset 1m",
    "http_requests_total offset 1m @ 300",
    "rate(http_requests_total[5m] @ 600)",
    "rate(http_requests_total[5m] @ 600 offset 2m)",
    "http_requests_total @ start()",
    "http_requests_total @ end() - http_requests_total offset 5m",
    "round(sum(rate(http_requests_total[2m] @ end())), 1e-9)",  # promtool adds in no fixed order
    "http_requests_total offset -2m",
    "rate(http_requests_total[3m] offset -1m)",
    "http_requests_total @ 3000",  # after the last sample: beyond lookback
    "http_requests_total @ -60",  # before the first
    "timestamp(http_requests_total @ 120)",
    "timestamp(http_requests_total offset 90s)",
    "max_over_time(node_load1[10m:1m])",
    "max_over_time(node_load1[10m:])",
    "min_over_time(node_load1[10m:2m] offset 3m)",
    "avg_over_time(node_load1[5m:30s] @ 900)",
    "rate(http_requests_total[10m:1m])",
    "sum_over_time(rate(http_requests_total[2m])[10m:1m])",
    "count_over_time((node_load1 > 1)[15m:1m])",
    "max_over_time(sum by (job) (http_requests_total)[5m:1m] offset -1m)",
    "last_over_time(node_load1[10m:1m])",
    "quantile_over_time(0.5, node_load1[10m:90s])",
    "absent_over_time(nope[5m:1m])",
    "max_over_time(max_over_time(node_load1[3m:1m])[6m:2m])",
    "max_over_time(node_load1[10m:1m] @ 600)",
    "changes(node_load1[12m:1m] @ end())",
    "holt_winters(node_load1[10m], 0.5, 0.5)",
]
FUNCTIONS = [
    'label_replace(http_requests_total, "svc", "$1-x", "path", "/v1/(.*)")',
    'label_replace(http_requests_total, "svc", "${1}_$2", "path", "/(v1)/(.*)")',
    'label_replace(http_requests_total, "job", "", "job", "api")',
    'label_replace(http_requests_total, "path", "$name", "path", "/(?P<name>[a-z]+).*")',
    'label_replace(http_requests_total, "nomatch", "x", "path", "zzz")',
    'label_replace(http_requests_total, "svc", "$$1 $1x ${1}x $9", "job", "(a)pi")',
    'label_join(http_requests_total, "id", "-", "job", "instance")',
    'label_join(http_requests_total, "id", "", "missing", "other")',
    'label_join(http_requests_total, "job", ",", "instance", "path", "job")',
    "sort(node_load1)",
    "sort_desc(http_requests_total)",
    "timestamp(node_load1)",
    "timestamp(sum(node_load1))",
    "timestamp(vector(1))",
    "sgn(node_load1 - 1)",
    "round(sin(node_load1), 1e-12)",
    "round(cos(node_load1), 1e-12)",
    "round(tan(node_load1), 1e-12)",
    "round(asin(node_load1 / 4), 1e-12)",
    "round(acos(node_load1 / 4), 1e-12)",
    "round(atan(node_load1), 1e-12)",
    "round(sinh(node_load1), 1e-12)",
    "round(cosh(node_load1), 1e-12)",
    "round(tanh(node_load1), 1e-12)",
    "round(asinh(node_load1), 1e-12)",
    "round(acosh(node_load1), 1e-12)",
    "round(atanh(node_load1 / 4), 1e-12)",
    "deg(node_load1)",
    "rad(node_load1)",
    "pi() * node_load1",
    "vector(pi())",
    "histogram_count(http_requests_total)",
    "histogram_sum(http_requests_total)",
    "histogram_fraction(0, 1, http_requests_total)",
    'http_requests_total{path=~"(?i).*tail.*"}',
    'http_requests_total{path=~"/v1/.*"}',
    'http_requests_total{path!~"/v1/(users|orders)"}',
    'http_requests_total{path=~"(?i)/V1/ORDERS"}',
    'http_requests_total{path=~"/v1"}',  # anchored: no partial match
    'http_requests_total{path=~"\\\\/health|/tail/\\\\w+"}',
    'http_requests_total{path=~"/[[:alpha:]]+"}',
    'http_requests_total{job=~"api|"}',
    '{__name__=~"http_.*", job="web"}',
]
EDGE_EXPRS = [
    "edge",
    "ceil(edge)",
    "floor(edge)",
    "round(edge)",
    "round(edge, 0.1)",
    "round(edge, 0)",
    "abs(edge)",
    "exp(edge)",
    'ln(edge{kind!="tiny"})',  # Go's Log is off for subnormals
    'log2(edge{kind!="tiny"})',  # Go's Log is off for subnormals
    'log10(edge{kind!="tiny"})',  # Go's Log is off for subnormals
    "sqrt(edge)",
    "sgn(edge)",
    "round(sin(edge), 1e-12)",
    "round(cos(edge), 1e-12)",
    "round(tan(edge), 1e-12)",
    "round(asin(edge), 1e-12)",
    "round(acos(edge), 1e-12)",
    "round(atan(edge), 1e-12)",
    "round(sinh(edge), 1e-12)",
    "round(cosh(edge), 1e-12)",
    "round(tanh(edge), 1e-12)",
    "round(asinh(edge), 1e-12)",
    "round(acosh(edge), 1e-12)",
    "round(atanh(edge), 1e-12)",
    "deg(edge)",
    "rad(edge)",
    "clamp(edge, 0, 1)",
    "clamp(edge, 0, NaN)",
    "clamp(edge, NaN, 1)",
    "clamp(edge, 1, 0)",
    "clamp_min(edge, 0)",
    "clamp_max(edge, 0)",
    "clamp_max(edge, NaN)",
    "edge * 2",
    "edge / 0",
    "edge % 2",
    "edge ^ 2",
    "-edge",
    "edge > 0",
    "edge == bool edge",
    "quantile(0.5, edge)",
    "quantile(NaN, edge)",
    "quantile(0, edge)",
    "quantile(1, edge)",
    "quantile(-1, edge)",
    "quantile(0.5, mixed)",
    "max(edge)",
    "min(edge)",
    "count(edge)",
    "topk(3, edge)",
    "bottomk(3, edge)",
    "sort(edge)",
    "sort_desc(edge)",
    'count_values("v", edge)',
    "min_over_time(mixed[5m])",
    "max_over_time(mixed[5m])",
    "min_over_time(mixed[1m])",
    "max_over_time(mixed[3m])",
    "sum_over_time(mixed[5m])",
    "count_over_time(mixed[10m])",
    "last_over_time(mixed[2m])",
    "quantile_over_time(0.5, mixed[5m])",
    "quantile_over_time(NaN, mixed[5m])",
    "changes(mixed[10m])",
    "mixed",
    "timestamp(mixed)",
    "vector(Inf) + vector(-Inf)",
    "vector(NaN)",
    "NaN",
    "-Inf",
    "scalar(edge)",
    "edge @ 0",
]
HISTOGRAMS = [
    "histogram_quantile(0.5, lat_bucket)",
    "histogram_quantile(0.5, sum by (le, job) (lat_bucket))",
    "histogram_quantile(0.9, rate(lat_bucket[5m]))",
    "histogram_quantile(NaN, lat_bucket)",
    "histogram_quantile(0, lat_bucket)",
    "histogram_quantile(1, lat_bucket)",
    "histogram_quantile(-0.5, lat_bucket)",
    "histogram_quantile(1.5, lat_bucket)",
    'histogram_quantile(0.99, lat_bucket{job="b"})',
    'histogram_quantile(0.5, lat_bucket{job="nothing"})',
]
DATES = [
    "year()",
    "month()",
    "day_of_month()",
    "day_of_week()",
    "day_of_year()",
    "days_in_month()",
    "hour()",
    "minute()",
    "year(boot_time)",
    "month(boot_time)",
    "day_of_month(boot_time)",
    "day_of_week(boot_time)",
    "day_of_year(boot_time)",
    "days_in_month(boot_time)",
    "hour(boot_time)",
    "minute(boot_time)",
    "hour(boot_time offset 1m)",
    "year(vector(time()))",
    "days_in_month(boot_time + 86400 * 31)",
]

# counters whose extrapolation to the window start would cross zero: Prometheus 2.42 cuts at
# the zero point before it decides whether the start is near enough to extrapolate to
COUNTERS = [{"series": f'zero_cutoff{{start="{m}m"}}', "values": f"{60 * m}+240x10"} for m in range(6)] + [
    {"series": 'zero_cutoff{start="late"}', "values": "_x3 30+60x7"},
    {"series": 'zero_cutoff{start="reset"}', "values": "100 340 580 20 260 500 740 980 1220 1460 1700"},
]
COUNTER_EXPRS = [
    "rate(zero_cutoff[20m])",
    "increase(zero_cutoff[20m])",
    "rate(zero_cutoff[5m])",
    "increase(zero_cutoff[7m])",
    "delta(zero_cutoff[20m])",
]

GROUPS: list[tuple[str, Series, list[str], list[str]]] = [
    ("counters", COUNTERS, COUNTER_EXPRS, ["5m", "10m"]),
    ("keywords", WEB, KEYWORDS, ["5m", "20m"]),
    ("modifiers", WEB, MODIFIERS, ["10m", "25m"]),
    ("functions", WEB, FUNCTIONS, ["10m"]),
    ("edges", EDGES, EDGE_EXPRS, ["5m", "9m"]),
    ("histograms", BUCKETS, HISTOGRAMS, ["6m"]),
    ("dates", TIME, DATES, ["0m", "9m"]),
]


def checkable(expr: str, results: list[ExprResult]) -> list[str]:
    """The expressions promtool can check for ``expr``: promtool 2.42 compares
    samples with ``reflect.DeepEqual``, where NaN never equals NaN, so a result
    holding NaN is checked as its non-NaN samples (``x == x``) and where the
    NaNs are (``x != bool x``: 1 exactly there)."""
    if not any(math.isnan(r.value) for r in results):
        return [expr]
    if value_type(parse(expr)) == "scalar":
        return [f"({expr}) != bool ({expr})"]
    return [f"({expr}) == ({expr})", f"({expr}) != bool ({expr})"]


def build(tmp_path: Path) -> tuple[Path, int]:
    tests = []
    total = 0
    for name, series, exprs, times in GROUPS:
        src = load_input(series, 60_000)
        src.horizon_ms = max(int(at[:-1]) for at in times) * 60_000  # what promtool has loaded
        cases = []
        for expr in exprs:
            for at in times:
                t = int(at[:-1]) * 60_000
                for checked in checkable(expr, evaluate(src, expr, t)):
                    got = evaluate(src, checked, t)
                    samples = [{"labels": format_labels(r.labels), "value": r.value} for r in got]
                    cases.append({"expr": checked, "eval_time": at, "exp_samples": samples})
        total += len(cases)
        tests.append({"name": name, "interval": "1m", "input_series": series, "promql_expr_test": cases})
    path = tmp_path / "language.yml"
    path.write_text(yaml.safe_dump({"evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    return path, total


def test_promtool_agrees_on_the_whole_language(tmp_path: Path) -> None:
    path, n = build(tmp_path)
    assert n > 300
    r = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"promtool disagrees ({n} cases):\n{r.stdout[-8000:]}{r.stderr[-2000:]}"
    ours = subprocess.run(
        [str(BIN / "switchman"), "rules", "test", str(path)], capture_output=True, text=True, timeout=120
    )
    assert ours.returncode == 0 and "SUCCESS" in ours.stdout, ours.stdout[-3000:]


@pytest.mark.parametrize(
    ("series", "values"),
    [
        ("Inf -Inf +Inf inf NaN nan", [math.inf, -math.inf, math.inf, math.inf, math.nan, math.nan]),
        ("0.1+0.1x2", [0.1, 0.2, 0.30000000000000004]),  # accumulated, as promtool adds
    ],
)
def test_series_notation_reads_special_values_as_promtool(series: str, values: list[float]) -> None:
    from switchman.controller.promql.testfile import expand_values

    got = expand_values(series)
    assert len(got) == len(values)
    for g, w in zip(got, values, strict=True):
        assert g is not None and (g == w or (math.isnan(g) and math.isnan(w)))
