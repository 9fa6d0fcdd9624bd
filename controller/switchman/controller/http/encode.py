"""Prometheus' JSON shapes: values as strings formatted as Go's
``strconv.FormatFloat(v, 'f', -1, 64)``, timestamps as Unix seconds."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from switchman.controller.promql.values import Sample, Scalar, Series, String, Value

_LABELS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def format_value(v: float) -> str:
    """Shortest decimal that reads back as ``v``, never in exponent form; NaN, +Inf, -Inf."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    s = repr(v)
    if "e" in s or "E" in s:
        s = format(Decimal(s), "f")
    if s.endswith(".0"):
        s = s[:-2]
    return s


def format_ts(t_ms: int) -> str:
    """Milliseconds as seconds with up to three decimals (a JSON number)."""
    sign = "-" if t_ms < 0 else ""
    whole, frac = divmod(abs(t_ms), 1000)
    return f"{sign}{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else f"{sign}{whole}"


def _point(t_ms: int, v: float) -> str:
    return f'[{format_ts(t_ms)},"{format_value(v)}"]'


def encode_value(value: Value) -> str:
    """``{"resultType": ..., "result": ...}`` as JSON text (built directly: matrices get large)."""
    if isinstance(value, Scalar):
        return f'{{"resultType":"scalar","result":{_point(value.t, value.v)}}}'
    if isinstance(value, String):
        return f'{{"resultType":"string","result":[{format_ts(value.t)},{_LABELS.encode(value.v)}]}}'
    parts: list[str] = []
    if value and isinstance(value[0], Series):
        for s in value:
            assert isinstance(s, Series)
            points = ",".join(_point(t, v) for t, v in zip(s.ts, s.vs, strict=True))
            parts.append(f'{{"metric":{_LABELS.encode(s.labels)},"values":[{points}]}}')
        return f'{{"resultType":"matrix","result":[{",".join(parts)}]}}'
    for x in value:
        assert isinstance(x, Sample)
        parts.append(f'{{"metric":{_LABELS.encode(x.labels)},"value":{_point(x.t, x.v)}}}')
    return f'{{"resultType":"vector","result":[{",".join(parts)}]}}'


def success(data_json: str, warnings: list[str] | None = None) -> str:
    extra = f',"warnings":{_LABELS.encode(warnings)}' if warnings else ""
    return f'{{"status":"success","data":{data_json}{extra}}}'


def dumps(data: Any) -> str:
    return _LABELS.encode(data)


def success_data(data: Any) -> str:
    return success(dumps(data))


def error(error_type: str, message: str) -> str:
    return _LABELS.encode({"status": "error", "errorType": error_type, "error": message})
