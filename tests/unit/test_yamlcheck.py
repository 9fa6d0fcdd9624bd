"""The YAML checker the drill, SLO and rule parsers share: values with the
nodes they came from, problems as FILE:LINE:COL: message."""

from __future__ import annotations

import pytest
from switchman.controller.yamlcheck import Checker, NotYAML, compose

DOC = """name: web
interval: 30s
timeout: soon
labels: {role: web, zone: [a]}
items: [1, 2]
single: x
colour: red
"""


def test_getters_return_values_and_point_at_their_nodes() -> None:
    c = Checker("f.yml")
    f = c.fields(compose(DOC, "f.yml"))
    assert (f.text("name"), f.text("missing", "d"), f.text("labels")) == ("web", "d", "")
    assert f.strings("labels") == {"role": "web", "zone": ""} and f.strings("missing") == {}
    assert f.duration_ms("interval", 0) == 30_000 and f.duration_ms("missing", 7) == 7
    assert [n.value for n in f.items("items")] == ["1", "2"] and f.items("missing") == []
    assert f.duration_ms("timeout", 5) == 5 and f.items("single") == []
    f.unknown({"name", "interval", "timeout", "labels", "items", "single"}, "unknown key {key!r} (known: {known})")
    c.err(f.at("missing"), "at the mapping when a key is missing")
    assert c.errors == [
        "f.yml:3:10: timeout: bad duration 'soon': expected a number with a unit (ms, s, m, h, d, w, y), e.g. 10s or 1h30m",
        "f.yml:6:9: single: expected a list",
        "f.yml:7:1: unknown key 'colour' (known: interval, items, labels, name, single, timeout)",
        "f.yml:1:1: at the mapping when a key is missing",
    ]


def test_a_mapping_is_required_where_asked_and_problems_are_raised_together() -> None:
    c = Checker("f.yml")
    assert c.mapping(compose("[1]", "f.yml"), "expected a mapping") is None
    assert c.mapping(compose("{}", "f.yml"), "expected a mapping") is not None
    c.err(None, "no node: the file")
    with pytest.raises(ValueError, match=r"^f\.yml:1:1: expected a mapping\nf\.yml: no node: the file$"):
        c.raise_if_any(ValueError)


def test_text_that_is_not_yaml_says_where() -> None:
    with pytest.raises(NotYAML) as exc:
        compose("a: [\n", "f.yml")
    assert exc.value.where == "f.yml:2:1" and exc.value.problem
    assert compose("", "f.yml") is None
