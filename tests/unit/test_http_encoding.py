"""The HTTP API's wire details: values formatted as Go's FormatFloat, times
and durations parsed as Prometheus parses them, alert values in 'e' form."""

from __future__ import annotations

import math

import pytest
from switchman.controller.http.encode import encode_value, format_ts, format_value
from switchman.controller.http.params import (
    MAX_TIME_MS,
    MIN_TIME_MS,
    BadParam,
    parse_matchers,
    parse_step_ms,
    parse_time_ms,
)
from switchman.controller.http.server import token_of
from switchman.controller.http.status import format_e
from switchman.controller.promql.values import Sample, Scalar, Series


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0, "2"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (123456789.125, "123456789.125"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (5e-324, "0." + "0" * 323 + "5"),
    ],
)
def test_values_are_formatted_as_go_formatfloat_f(value: float, text: str) -> None:
    assert format_value(value) == text
    if math.isfinite(value):
        assert float(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1e+00"), (0.0025, "2.5e-03"), (123456.0, "1.23456e+05"), (0.0, "0e+00"), (-3e100, "-3e+100")],
)
def test_alert_values_are_formatted_as_go_formatfloat_e(value: float, text: str) -> None:
    assert format_e(value) == text


def test_timestamps_are_seconds_with_milliseconds() -> None:
    assert [format_ts(t) for t in (1435781451781, 1435781451500, 1000, 0, -1500)] == [
        "1435781451.781",
        "1435781451.5",
        "1",
        "0",
        "-1.5",
    ]


def test_result_documents() -> None:
    assert encode_value(Scalar(1000, 2.0)) == '{"resultType":"scalar","result":[1,"2"]}'
    assert encode_value([Sample({"a": "b"}, 1500, math.nan)]) == (
        '{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.5,"NaN"]}]}'
    )
    assert encode_value([Series({"x": "é"}, [1000, 2000], [1.0, 2.5])]) == (
        '{"resultType":"matrix","result":[{"metric":{"x":"é"},"values":[[1,"1"],[2,"2.5"]]}]}'
    )
    assert encode_value([]) == '{"resultType":"vector","result":[]}'


def test_times_parse_as_unix_seconds_or_rfc3339_and_out_of_range_years_clamp() -> None:
    assert parse_time_ms("1435781451.781", "time") == 1435781451781
    assert parse_time_ms("2015-07-01T20:10:51.781Z", "time") == 1435781451781
    assert parse_time_ms("2015-07-01T22:10:51.781123456+02:00", "time") == 1435781451781
    # what Go clients send for "no bound" (their minimum and maximum times)
    assert parse_time_ms("-292273086-05-16T16:47:06Z", "start") == MIN_TIME_MS
    assert parse_time_ms("292277025-08-18T07:12:54.999999999Z", "end") == MAX_TIME_MS
    for bad in ("yesterday", "NaN", "2015-13-01T00:00:00Z", ""):
        with pytest.raises(BadParam, match="cannot parse"):
            parse_time_ms(bad, "time")


def test_steps_parse_as_seconds_or_durations() -> None:
    assert [parse_step_ms(s, "step") for s in ("15", "0.5", "1m30s", "250ms")] == [15000, 500, 90000, 250]
    with pytest.raises(BadParam, match=r"invalid parameter 'step'"):
        parse_step_ms("fast", "step")


def test_match_selectors_must_be_selectors_with_a_non_empty_matcher() -> None:
    [[*ms]] = parse_matchers(['up{job="node"}'])
    assert {(m.name, m.value) for m in ms} == {("__name__", "up"), ("job", "node")}
    with pytest.raises(BadParam, match="not a series selector"):
        parse_matchers(["rate(up[5m])"])
    with pytest.raises(BadParam, match="at least one non-empty matcher"):
        parse_matchers(['{job=~".*"}'])


def test_tokens_come_from_bearer_or_basic_auth_password() -> None:
    import base64

    basic = base64.b64encode(b"anyone:smt_secret").decode()
    assert token_of({"Authorization": "Bearer smt_secret"}) == "smt_secret"
    assert token_of({"Authorization": f"Basic {basic}"}) == "smt_secret"
    assert token_of({"Authorization": "Basic !!!"}) is None
    assert token_of({}) is None
