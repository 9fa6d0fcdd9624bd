"""The rules Switchman generates from SLO files against what Sloth's
``prometheus/v1`` generator writes for the same files (fixtures in
tests/fixtures/sloth/, derived from Sloth's generator templates): recording
and alert rules, their labels and annotations, and the rule file passing
``promtool check rules``."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from switchman.controller.promql.parser import parse
from switchman.controller.slo import sloth
from switchman.controller.slo.engine import SLOEngine, SLOState, WindowValue, burn_alerts
from switchman.controller.slo.spec import SLO, parse_slo_file
from switchman.controller.store.storage import Storage
from switchman.controller.wiring import Retention, make_evaluator

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sloth"
FILES = ("checkout", "quiet")


def load(name: str) -> list[SLO]:
    return parse_slo_file((FIXTURES / f"{name}.yml").read_text(), f"{name}.yml")


@pytest.mark.parametrize("name", FILES)
def test_generated_rules_are_sloths_for_the_same_file(name: str) -> None:
    expected = yaml.safe_load((FIXTURES / f"{name}.rules.yml").read_text())
    got = yaml.safe_load(yaml.safe_dump({"groups": sloth.rule_groups(load(name), version="test")}))
    assert got == expected


@pytest.mark.parametrize("name", FILES)
def test_generated_expressions_parse_and_promtool_accepts_the_rule_file(name: str, tmp_path: Path) -> None:
    groups = sloth.rule_groups(load(name))
    for group in groups:
        rules = group["rules"]
        assert isinstance(rules, list)
        for rule in rules:
            parse(rule["expr"])
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    assert Path(promtool).exists(), "promtool is not installed: run `make system-deps` (Debian's prometheus)"
    path = tmp_path / "slo.rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ticket_alert_has_sloths_two_conditions_and_page_its_two() -> None:
    [page, ticket] = sloth.alert_rules(load("checkout")[0], 30)
    windows = [
        (w, f)
        for line in ticket.expr.splitlines()
        if "max(" in line
        for w, f in [(line.split("ratio_rate")[1].split("{")[0], line.split("> (")[1].split(" *")[0])]
    ]
    assert windows == [("2h", "3"), ("1d", "3"), ("6h", "1"), ("3d", "1")]
    assert "(14.4 * 0.005)" in page.expr and "ratio_rate5m" in page.expr and "(6 * 0.005)" in page.expr
    assert ticket.expr.count(" or\n") == 0 and "\nor\n" in ticket.expr


def test_the_28_day_period_uses_sloths_factors() -> None:
    [page, ticket] = sloth.alert_rules(load("checkout")[0], 28)  # 5 % of 672 h over 6 h, in float64 as Go computes it
    assert "(13.44 * 0.005)" in page.expr and "(5.6000000000000005 * 0.005)" in page.expr
    assert "(2.8000000000000003 * 0.005)" in ticket.expr and "(0.9333333333333333 * 0.005)" in ticket.expr


def test_go_float_formatting_matches_sloths_output() -> None:
    assert sloth.go_g((100 - 99.9) / 100) == "0.0009999999999999432"
    assert sloth.go_g(99.9 / 100) == "0.9990000000000001"
    assert sloth.go_g((100 - 99.999) / 100) == "1.0000000000047748e-05"
    assert sloth.go_g(30.0) == "30" and sloth.go_g(1e6) == "1e+06"
    assert sloth.go_f(99.9) == "99.9" and sloth.go_f(95.0) == "95"


def test_rule_engine_alerts_are_sloths_with_service_and_severity_underneath() -> None:
    slos = load("checkout")
    groups = burn_alerts(slos, 30_000)
    assert [g.name for g in groups] == [
        "sloth-slo-alerts-checkout-http-availability",
        "sloth-slo-alerts-search-fresh-results",
    ]
    page, ticket = groups[0].rules
    [exp_page, exp_ticket] = sloth.alert_rules(slos[0], 30)
    assert page.expr_text == exp_page.expr and page.annotations == exp_page.annotations
    assert page.labels == {**exp_page.labels, "service": "checkout"}  # the file's severity wins
    assert ticket.labels == {**exp_ticket.labels, "service": "checkout", "severity": "ticket"}
    [search_page] = groups[1].rules  # ticket disabled
    assert search_page.labels["severity"] == "page" and search_page.labels["sloth_severity"] == "page"
    assert burn_alerts(load("quiet"), 30_000) == []


def test_series_carry_sloths_labels(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "controller.db")
    now = 1_800_000_000_000
    engine = SLOEngine(storage, make_evaluator(storage, Retention(), lambda: now), lambda: now)
    slo = load("checkout")[0]
    st = SLOState(slo, {w: WindowValue(w, 0.001, 1e6) for w in ("5m", "1h", "30d")})
    series = {s.labels["__name__"] + s.labels.get("sloth_window", ""): s.labels for s in engine.series(st)}
    ids = {"sloth_id": "checkout-http-availability", "sloth_service": "checkout", "sloth_slo": "http-availability"}
    labels = {"team": "payments", "tier": "0"}
    assert series["slo:sli_error:ratio_rate5m5m"] == {
        "__name__": "slo:sli_error:ratio_rate5m",
        **ids,
        "sloth_window": "5m",
        **labels,
    }
    assert series["slo:objective:ratio"] == {"__name__": "slo:objective:ratio", **ids, **labels}
    assert series["sloth_slo_info"] == {
        "__name__": "sloth_slo_info",
        **ids,
        **labels,
        "sloth_mode": "cli-gen-prom",
        "sloth_spec": "prometheus/v1",
        "sloth_version": sloth.VERSION,
        "sloth_objective": "99.5",
    }
    storage.close()


def test_alerts_fire_on_the_engines_series(tmp_path: Path) -> None:
    """The ``and`` between windows matches once ``max ... without (sloth_window)`` drops the window."""
    storage = Storage.open(tmp_path / "controller.db")
    now = 1_800_000_000_000
    evaluator = make_evaluator(storage, Retention(), lambda: now)
    engine = SLOEngine(storage, evaluator, lambda: now)
    slo = load("checkout")[0]
    st = SLOState(slo, {w: WindowValue(w, 0.5, 1e6) for w, _ in engine.windows()})
    asyncio.run(storage.write(lambda tx: storage.samples.add(tx, engine.series(st), now)))
    [page, ticket] = burn_alerts([slo], 30_000)[0].rules
    for rule in (page, ticket):
        result = evaluator.instant(rule.expr, now)
        assert isinstance(result, list) and len(result) == 1, rule.labels["sloth_severity"]
        assert "sloth_window" not in result[0].labels and result[0].labels["sloth_id"] == slo.id
    storage.close()
