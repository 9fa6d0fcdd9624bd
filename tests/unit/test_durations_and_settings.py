from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from switchman.proto.durations import DurationError, format_duration_ms, parse_duration_ms
from switchman.proto.settings import ConfigError, Key, build, load_toml


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("500ms", 500),
        ("10s", 10_000),
        ("5m", 300_000),
        ("1h30m", 5_400_000),
        ("7d", 604_800_000),
        ("1h0m5s", 3_605_000),
    ],
)
def test_parses_prometheus_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "10", "s", "1.5s", "5m1h", "10 s", "-1s", "1x", "1s1s"])
def test_rejects_bad_durations_with_the_text_in_the_message(text: str) -> None:
    with pytest.raises(DurationError) as e:
        parse_duration_ms(text)
    assert "duration" in str(e.value)


@given(st.integers(min_value=0, max_value=10**13))
def test_format_then_parse_round_trips(ms: int) -> None:
    assert parse_duration_ms(format_duration_ms(ms)) == ms


KEYS = (Key("interval", "duration", 10.0), Key("listen", "address", "127.0.0.1:1"), Key("labels", "labels", {}))


def test_flags_win_over_file_values() -> None:
    v = build(KEYS, {"interval": "5s"}, {"interval": "2s"}, "a.toml")
    assert v["interval"] == 2.0


def test_unknown_key_names_file_and_key() -> None:
    with pytest.raises(ConfigError, match=r"a\.toml: unknown key 'intervl'"):
        build(KEYS, {"intervl": "5s"}, {}, "a.toml")


def test_bad_duration_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"a\.toml: key 'interval': expected a duration"):
        build(KEYS, {"interval": "soon"}, {}, "a.toml")


def test_bad_address_and_labels_are_refused() -> None:
    with pytest.raises(ConfigError, match="key 'listen'"):
        build(KEYS, {"listen": "nohostport"}, {}, "a.toml")
    with pytest.raises(ConfigError, match="key 'labels'"):
        build(KEYS, {"labels": {"bad-name": "x"}}, {}, "a.toml")
    with pytest.raises(ConfigError, match="longer than 1024"):
        build(KEYS, {}, {"labels": ["k=" + "x" * 2000]}, "a.toml")


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "agent.toml"
    p.write_text('controller = "127.0.0.1:7000"\ninterval = \n')
    with pytest.raises(ConfigError) as e:
        load_toml(p)
    assert str(p) in str(e.value)
    assert "line 2" in str(e.value)
