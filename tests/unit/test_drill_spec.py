"""Drill files: a good one parses; every problem of a bad one is reported
with FILE:LINE:COL."""

from __future__ import annotations

import pytest
from switchman.controller.chaos.spec import DrillSpecError, parse_drill, pick_count

GOOD = """
title: latency on one web host
targets: {selector: {role: web}, mode: "percent:50"}
steady_state:
  - name: ok
    expr: up == 1
faults:
  - {kind: latency, duration: 30s, service: hello, params: {latency: 300ms, jitter: 50ms}}
abort_when:
  - alert: HostDown
  - expr: sum(up) < 1
schedule: "0 3 * * 1"
recovery_timeout: 2m
"""


def test_a_good_drill_file_parses() -> None:
    d = parse_drill(GOOD, "d.yml")
    assert d.title == "latency on one web host" and d.selector == {"role": "web"} and d.mode == "percent:50"
    assert d.faults[0].params == {"latency": "300ms", "jitter": "50ms"} and d.faults[0].duration_ms == 30_000
    assert [c.alert or c.expr for c in d.abort_when] == ["HostDown", "sum(up) < 1"]
    assert d.recovery_timeout_ms == 120_000 and d.schedule == "0 3 * * 1" and d.services == {"hello"}
    assert [pick_count(m, 10) for m in ("one", "all", "count:3", "count:30", "percent:25", "percent:1")] == [
        1,
        10,
        3,
        10,
        2,
        1,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: x\ntargets: {mode: some}\nfaults: [{kind: cpu, duration: 1s}]\n", "d.yml:2:17: targets.mode: 'some'"),
        ("title: x\ntargets: {}\nfaults: [{kind: flood, duration: 1s}]\n", "d.yml:3:17: faults[0]: kind: 'flood'"),
        ("title: x\ntargets: {}\nfaults: [{kind: cpu}]\n", "faults[0]: every fault needs a duration"),
        ("title: x\ntargets: {}\nfaults: [{kind: cpu, duration: soon}]\n", "faults[0]: duration:"),
        (
            "title: x\ntargets: {}\nsteady_state: [{name: a, expr: 'up =='}]\nfaults: [{kind: cpu, duration: 1s}]\n",
            "steady_state[0]: expr:",
        ),
        (
            "title: x\ntargets: {}\nsteady_state: [{expr: up}]\nfaults: [{kind: cpu, duration: 1s}]\n",
            "steady_state[0]: needs a name",
        ),
        ("title: x\ntargets: {}\nfaults: [{kind: cpu, duration: 1s}]\nschedule: 'every day'\n", "schedule:"),
        ("title: x\ntargets: {}\nfaults: [{kind: cpu, duration: 1s}]\ncolour: red\n", "unknown key 'colour'"),
        ("targets: {}\nfaults: [{kind: cpu, duration: 1s}]\n", "title: required"),
        ("title: [\n", "not valid YAML"),
    ],
)
def test_bad_drill_files_name_the_line_and_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(DrillSpecError) as exc:
        parse_drill(text, "d.yml")
    assert expected in str(exc.value)


def test_every_unknown_key_of_a_condition_or_a_fault_is_reported_at_its_line() -> None:
    text = (
        "title: x\ntargets: {}\nsteady_state:\n  - {name: a, expr: up, colour: red, size: 2}\n"
        "faults:\n  - {kind: cpu, duration: 1s, when: now, why: test}\n"
    )
    with pytest.raises(DrillSpecError) as exc:
        parse_drill(text, "d.yml")
    assert str(exc.value).splitlines() == [
        "d.yml:4:25: steady_state[0]: unknown key 'colour' (known: alert, expr, name)",
        "d.yml:4:38: steady_state[0]: unknown key 'size' (known: alert, expr, name)",
        "d.yml:6:31: faults[0]: unknown key 'when' (known: duration, kind, params, service)",
        "d.yml:6:42: faults[0]: unknown key 'why' (known: duration, kind, params, service)",
    ]


def test_a_list_used_as_a_key_is_reported_by_its_text_not_a_crash() -> None:
    with pytest.raises(DrillSpecError) as exc:
        parse_drill("title: x\ntargets: {}\nfaults: [{kind: cpu, duration: 1s}]\n? [a, b]\n: 1\n", "d.yml")
    assert str(exc.value) == (
        "d.yml:4:3: unknown key '[a, b]' (known: abort_when, description, dry_run, faults, recovery_timeout, "
        "schedule, steady_state, targets, title)"
    )
