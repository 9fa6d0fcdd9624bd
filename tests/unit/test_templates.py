from __future__ import annotations

import pytest
from switchman.controller.alerts.templates import expand, go_float, humanize, humanize1024, humanize_duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (1.0, "1"),
        (-7.5, "-7.5"),
        (0.30000000000000004, "0.30000000000000004"),
        (float("inf"), "+Inf"),
    ],
)
def test_values_print_as_go_prints_them(value: float, text: str) -> None:
    assert go_float(value) == text


def test_humanize_family() -> None:
    assert humanize(1234.5) == "1.234k" and humanize(0.0005) == "500u" and humanize(0) == "0"
    assert humanize1024(2048) == "2ki" and humanize_duration(3725) == "1h 2m 5s" and humanize_duration(0.005) == "5ms"


def test_expand_labels_value_and_pipes() -> None:
    text = "{{ $labels.host }} at {{ $value }} ({{ $value | humanize }}, {{ humanizePercentage $value }}) {{ $labels.nope }}"
    assert expand(text, {"host": "h1"}, 0.25) == "h1 at 0.25 (250m, 25%) "  # missingkey=zero: a missing label is ""
