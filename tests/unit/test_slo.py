"""SLO arithmetic against hand computations on constructed series: an
events SLI from two linear counters, a probe SLI over 30 days where all but
the last two days come from the 1-minute rollups, insufficient data, and the
generated burn-rate alerts. Also the file checks."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from switchman.controller.promql.parser import parse
from switchman.controller.slo.engine import SLOEngine, burn_alerts
from switchman.controller.slo.spec import SLOSpecError, parse_slo_file
from switchman.controller.store.storage import Storage
from switchman.controller.wiring import Retention, make_evaluator

NOW = 1_800_000_000_000
MIN = 60_000
DAY = 86_400_000

EVENTS = """
version: prometheus/v1
service: shop
labels: {team: web}
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_errors_total[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {name: ShopErrorBudgetBurn}
  - name: probes
    objective: 98
    sli: {probe: {service: shop}}
"""


def test_events_and_long_window_probe_ratios_match_a_hand_computation(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "controller.db")
    writer, index = storage.writer, storage.index

    def job(conn: sqlite3.Connection) -> None:
        req = index.intern(conn, writer, "http_requests_total", (("host", "h1"),), "h1", NOW)
        err = index.intern(conn, writer, "http_errors_total", (("host", "h1"),), "h1", NOW)
        probe = index.intern(conn, writer, "probe_success", (("host", "h1"), ("service", "shop")), "h1", NOW)
        rows = []
        for k in range(0, 4 * 3600 // 15 + 1):  # 4 hours at 15 s: 1000 req/s, 2 err/s
            ts = NOW - 4 * 3_600_000 + k * 15_000
            rows += [(req, ts, 1000.0 * 15 * k), (err, ts, 2.0 * 15 * k)]
        raw_from = NOW - 2 * DAY
        for m in range(0, 2 * DAY // MIN):  # raw probe samples, one a minute, every 100th failing
            rows.append((probe, raw_from + m * MIN, 0.0 if m % 100 == 0 else 1.0))
        conn.executemany("INSERT INTO samples VALUES (?,?,?)", rows)
        rollups = []
        for m in range(0, 28 * DAY // MIN):  # older: only the 1-minute rollups, every 100th minute failing
            ts = NOW - 30 * DAY + m * MIN
            v = 0.0 if m % 100 == 0 else 1.0
            rollups.append((probe, ts, v, v, v, 1, v))
        conn.executemany("INSERT INTO rollup_1m VALUES (?,?,?,?,?,?,?)", rollups)

    writer.submit(job).result()
    engine = SLOEngine(storage, make_evaluator(storage, Retention(raw_ms=2 * DAY), lambda: NOW), lambda: NOW)
    engine.configure(parse_slo_file(EVENTS, "shop.yml"))
    asyncio.run(engine.evaluate())
    shop = engine.states["shop-requests"]
    for window in ("5m", "30m", "1h", "2h"):
        assert shop.windows[window].ratio == pytest.approx(2 / 1000, rel=1e-9), window  # 2 err/s over 1000 req/s
    assert shop.windows["5m"].events == pytest.approx(1000 * 300, rel=1e-9)
    assert shop.windows["1d"].ratio == pytest.approx(0.002, rel=1e-9)  # only 4 h of data: same slopes
    series = {s.labels["__name__"]: s.v for s in engine.series(shop)}
    assert series["slo:current_burn_rate:ratio"] == pytest.approx(2.0)  # 0.002 / (1 - 0.999)
    assert series["slo:error_budget:ratio"] == pytest.approx(0.001) and series["slo:objective:ratio"] == pytest.approx(
        0.999
    )

    probes = engine.states["shop-probes"]
    month = probes.windows["30d"]
    minutes = 30 * DAY // MIN
    failing = len(range(0, 28 * DAY // MIN, 100)) + len(range(0, 2 * DAY // MIN, 100))
    assert month.events == pytest.approx(minutes, abs=2)  # 28 days of rollups + 2 days raw
    assert month.ratio == pytest.approx(failing / minutes, rel=1e-3)
    series = {s.labels["__name__"]: s.v for s in engine.series(probes)}
    burn = (failing / minutes) / 0.02
    assert series["slo:period_burn_rate:ratio"] == pytest.approx(burn, rel=1e-3)
    assert series["slo:period_error_budget_remaining:ratio"] == pytest.approx(1 - burn, rel=1e-3)
    assert probes.windows["5m"].ratio is None and probes.windows["5m"].events == 5  # below min_events (10)
    storage.close()


def test_low_traffic_is_insufficient_data_never_zero_or_hundred(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "controller.db")
    engine = SLOEngine(storage, make_evaluator(storage, Retention(), lambda: NOW), lambda: NOW)
    engine.configure(parse_slo_file(EVENTS, "shop.yml"))
    asyncio.run(engine.evaluate())
    for st in engine.states.values():
        assert all(v.ratio is None for v in st.windows.values()), st.slo.id
        assert not [s for s in engine.series(st) if s.labels["__name__"].startswith("slo:sli_error")]
    storage.close()


def test_burn_alerts_use_the_workbook_thresholds() -> None:
    group, _ = burn_alerts(parse_slo_file(EVENTS, "shop.yml"), 30_000)  # one group per SLO, as Sloth
    assert group.name == "sloth-slo-alerts-shop-requests"
    page, ticket = group.rules[0], group.rules[1]
    assert page.name == "ShopErrorBudgetBurn" and page.labels["severity"] == "page" and page.labels["service"] == "shop"
    assert (
        "> (14.4 * 0.0009999999999999432)" in page.expr_text
        and "ratio_rate1h" in page.expr_text
        and "> (6 * 0.0009999999999999432)" in page.expr_text
    )
    assert (
        "ratio_rate6h" in ticket.expr_text
        and "ratio_rate3d" in ticket.expr_text
        and "ratio_rate2h" in ticket.expr_text
        and "ratio_rate1d" in ticket.expr_text
        and ticket.labels["severity"] == "ticket"
    )
    parse(page.expr_text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            EVENTS.replace("99.9", "100"),
            "shop.yml:7:16: slos[0].objective: must be a percentage strictly between 0 and 100",
        ),
        (EVENTS.replace("99.9", "0"), "slos[0].objective"),
        (
            EVENTS.replace("sum(rate(http_errors_total[{{.window}}]))", "sum(rate(http_errors_total[5m]))"),
            "missing {{.window}}",
        ),
        (
            EVENTS.replace("sum(rate(http_errors_total[{{.window}}]))", "sum(rate(http_errors_total[{{.window}}])"),
            "error_query: 1:",
        ),
        (EVENTS.replace("prometheus/v1", "sloth/v1"), "version: 'sloth/v1'"),
        (EVENTS.replace("{probe: {service: shop}}", "{latency: {service: shop}}"), "needs threshold"),
    ],
)
def test_bad_slo_files_name_the_line_and_the_problem(text: str, expected: str) -> None:
    with pytest.raises(SLOSpecError) as exc:
        parse_slo_file(text, "shop.yml")
    assert expected in str(exc.value)
