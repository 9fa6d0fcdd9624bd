"""When an expression used as a condition is true: alerting-rule semantics,
shared by rollout analysis and drills so one expression means the same
thing everywhere (ADR 0010)."""

from __future__ import annotations

import math

from switchman.controller.promql.values import Sample, Scalar, Value


def holds(value: Value) -> tuple[bool, float]:
    """True when the expression returns samples (``x == 0`` returns the zero
    samples), or a non-zero scalar; with the first value (NaN when none)."""
    if isinstance(value, Scalar):
        return value.v != 0 and not math.isnan(value.v), value.v
    samples = [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []
    return (True, samples[0].v) if samples else (False, math.nan)
