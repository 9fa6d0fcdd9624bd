"""Property tests: every parser either returns a value or raises its own,
documented error; nothing else escapes."""

from __future__ import annotations

import contextlib
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchman.agent import config as agent_config
from switchman.controller.promql import PromQLError, parse
from switchman.proto.durations import DurationError, parse_duration_ms
from switchman.proto.settings import ConfigError, build, load_toml
from switchman.proto.validate import ValidationError, check_identifier, check_labels

PROMQL_ALPHABET = st.sampled_from(
    [*list("abcxyz_:{}[]()=!~\",'`\\ 0123456789.+-*/^%<>#\n"), "offset", "5m", "1h30m", "up", "=~"]
)


@given(st.text(max_size=200) | st.lists(PROMQL_ALPHABET, max_size=40).map("".join))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_promql_parser_returns_an_ast_or_a_positioned_error(expr: str) -> None:
    try:
        parse(expr)
    except PromQLError as exc:
        assert exc.pos is None or 0 <= exc.pos <= len(expr)


@given(st.text(max_size=40))
def test_durations_parse_or_raise_duration_error(text: str) -> None:
    with contextlib.suppress(DurationError):
        assert parse_duration_ms(text) >= 0


@given(st.text(max_size=200))
def test_identifiers_and_labels_are_checked_without_surprises(text: str) -> None:
    try:
        check_identifier("name", text)
        assert "/" not in text and not any(ord(c) < 32 for c in text)
    except ValidationError:
        pass
    with contextlib.suppress(ValidationError):
        check_labels("labels", {text[:20] or "x": text})


TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from([k.name for k in agent_config.KEYS] + ["bogus"]), TOML_VALUES, max_size=6))
@settings(max_examples=300)
def test_config_values_of_any_shape_give_a_config_error_or_a_config(values: dict[str, object]) -> None:
    try:
        build(agent_config.KEYS, values, {}, "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith(("fuzz.toml", "command line"))


@given(st.binary(max_size=300))
@settings(max_examples=200)
def test_toml_files_of_random_bytes_give_a_config_error(data: bytes) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.NamedTemporaryFile(suffix=".toml", delete=False) as f:
        f.write(data)
    path = Path(f.name)
    try:
        try:
            doc = load_toml(path)
            assert isinstance(doc, dict)
            tomllib.loads(data.decode())  # it really was valid
        except ConfigError as exc:
            assert str(path) in str(exc)
    finally:
        path.unlink()


YAML_PIECES = st.sampled_from(
    [
        *list(":-[]{}?,&*!'\" \n#|>"),
        "\n  ",
        "\n    - ",
        "[x]: ",
        "{x: 1}: ",
        "title",
        "targets",
        "faults",
        "kind",
        "duration",
        "steady_state",
        "expr",
        "version",
        "prometheus/v1",
        "slos",
        "sli",
        "events",
        "groups",
        "rules",
        "record",
        "alert",
        "labels",
        "up == 1",
        "5m",
        "cpu",
        "x",
        "1",
    ]
)


@given(st.lists(YAML_PIECES, max_size=40).map("".join))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_drill_slo_and_rule_files_parse_or_give_their_own_positioned_errors(text: str) -> None:
    import tempfile
    from pathlib import Path

    from switchman.controller.alerts.rules import load_rule_file
    from switchman.controller.chaos.spec import DrillSpecError, parse_drill
    from switchman.controller.slo.spec import SLOSpecError, parse_slo_file

    for parse_file, error, file in ((parse_drill, DrillSpecError, "d.yml"), (parse_slo_file, SLOSpecError, "s.yml")):
        try:
            parse_file(text, file)
        except error as exc:
            assert all(line.startswith(file) for line in str(exc).splitlines())
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.yml"
        path.write_text(text)
        assert all(e.startswith(str(path)) for e in load_rule_file(path).errors)
