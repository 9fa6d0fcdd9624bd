"""Jinja2 templates (autoescaped) and the filters the pages share."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import jinja2
from switchman.controller.timefmt import utc
from switchman.proto.durations import format_duration_ms
from switchman.proto.v1 import common_pb2

DASH = "\u2013"  # an en dash: nothing to show

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("switchman.controller.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def ago(ms: int, now_ms: int | None = None) -> str:
    if not ms:
        return DASH
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    seconds = max(0, (now - ms) // 1000)
    return format_duration_ms(seconds * 1000) + " ago"


def labels(values: Mapping[str, str]) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in sorted(values.items()))


def metric(values: Mapping[str, str]) -> str:
    """``name{a="b", c="d"}`` as Prometheus shows a series."""
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(values.items()) if k != "__name__")
    return values.get("__name__", "") + "{" + inner + "}"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f} %"


def enum_name(enum: Any, prefix: str) -> Any:
    """``SLOT_STATE_HEALTHY`` -> ``healthy``; a dash for the unspecified value."""

    def name(value: int) -> str:
        text = enum.Name(value) if value in enum.values() else str(value)
        return DASH if text.endswith("UNSPECIFIED") else text.removeprefix(prefix).lower()

    return name


ENV.globals.update(
    slot_name=enum_name(common_pb2.Slot, "SLOT_"),
    slot_state=enum_name(common_pb2.SlotState, "SLOT_STATE_"),
    fault_state=enum_name(common_pb2.FaultState, "FAULT_STATE_"),
)
ENV.filters.update(metric=metric, ts=utc, ago=ago, labels=labels, percent=percent, duration=format_duration_ms)


def render(name: str, context: Mapping[str, Any]) -> str:
    return ENV.get_template(name).render(**context)
