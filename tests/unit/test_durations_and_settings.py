from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from switchman.agent import config as agent_config
from switchman.controller import config as controller_config
from switchman.proto.durations import DurationError, format_duration_ms, parse_duration_ms
from switchman.proto.settings import ConfigError, Key, build, load_toml, make_config


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


@dataclass(frozen=True)
class _Config:
    interval: float
    listen: str
    labels: dict[str, str]
    name: str
    probes: list[dict[str, object]]
    source: str = ""


def test_make_config_fills_every_field_from_its_key_typed_by_its_kind() -> None:
    keys = (*KEYS, Key("name", "str", None), Key("probe", "tables", [], attr="probes"))
    v = build(keys, {"interval": "5s", "probe": [{"kind": "tcp"}]}, {"labels": ["role=web"]}, "a.toml")
    assert make_config(_Config, keys, v, source="a.toml") == _Config(
        5.0, "127.0.0.1:1", {"role": "web"}, "", [{"kind": "tcp"}], "a.toml"
    )
    assert make_config(_Config, keys, v, listen="127.0.0.1:2").listen == "127.0.0.1:2"  # worked out wins


def test_make_config_refuses_a_key_without_a_field() -> None:
    with pytest.raises(TypeError, match="bogus"):
        make_config(_Config, (*KEYS, Key("bogus", "int", 1)), build((*KEYS, Key("bogus", "int", 1)), {}, {}, "a"))


def test_both_daemons_fill_their_whole_config_from_their_keys(tmp_path: Path) -> None:
    p = tmp_path / "agent.toml"
    p.write_text(
        'controller = "127.0.0.1:7000"\nlisten = "127.0.0.1:7100"\nspool_max_bytes = "1MiB"\ninsecure = true\n'
        '[[probe]]\nkind = "tcp"\n'
    )
    a = agent_config.load(str(p), {"data_dir": str(tmp_path / "a"), "host_id": "web-1", "labels": ["role=web"]})
    assert dataclasses.asdict(a) == {
        "controller": "127.0.0.1:7000",
        "listen": "127.0.0.1:7100",
        "advertise": "127.0.0.1:7100",
        "service_address": "127.0.0.1",
        "metrics_listen": "127.0.0.1:9109",
        "data_dir": tmp_path / "a",
        "host_id": "web-1",
        "labels": {"role": "web"},
        "job": "node",
        "interval": 10.0,
        "batch_max_samples": 5000,
        "spool_max_bytes": 2**20,
        "push_timeout": 10.0,
        "backoff_cap": 30.0,
        "tls_dir": "",
        "insecure": True,
        "max_fault_duration": 900.0,
        "shutdown_grace": 10.0,
        "log_level": "info",
        "log_format": "text",
        "probes": [{"kind": "tcp"}],
        "scrapes": [],
        "source": str(p),
    }
    c = controller_config.load(None, {"insecure": True, "data_dir": str(tmp_path / "c"), "slo_period": "28d"})
    assert (c.listen, c.ops_listen, c.data_dir, c.slo_period, c.source) == (
        "127.0.0.1:7000",
        "",
        tmp_path / "c",
        "28d",
        "the command line (no config file)",
    )
    assert (c.incident_priorities["page"], c.max_message_bytes, c.rule_files, c.notifiers) == ("P2", 4 * 2**20, [], [])
