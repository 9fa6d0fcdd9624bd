"""The Go-template subset used in alert labels and annotations:
``{{ $labels.x }}``, ``{{ $value }}``, ``.Labels.x``, ``.Value``, and the
functions ``humanize``, ``humanize1024``, ``humanizePercentage``,
``humanizeDuration``, ``toUpper``, ``toLower``, ``title``, ``printf`` -- written
to print exactly as Prometheus (Go's fmt) does."""

from __future__ import annotations

import decimal
import math
import re

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)


def go_float(v: float) -> str:
    """Go's %v for a float64 (strconv 'g', shortest): %e when the decimal
    exponent is < -4 or >= 6, else plain digits (1e+06, 123456, 0.0001, 1e-05)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    d = decimal.Decimal(repr(v)).normalize()
    sign, digit_tuple, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    exp10 = len(digits) - 1 + exponent
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    return format(d, "f")


def _g4(v: float) -> str:
    return _go_g(v, 4)


def _go_g(v: float, prec: int) -> str:
    s = f"%.{prec}g" % v
    if "e" in s:
        m, e = s.split("e")
        return f"{m}e{e[0]}{int(e[1:]):02d}"
    return s


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        big, prefix = _scale_down(v, 1000, ("k", "M", "G", "T", "P", "E", "Z", "Y"))
        return _g4(big) + prefix
    small, prefix = _small_prefix(v)
    return _g4(small) + prefix


def _scale_down(v: float, base: float, prefixes: tuple[str, ...]) -> tuple[float, str]:
    """Divide by ``base`` while |v| >= base: (value, prefix)."""
    prefix = ""
    for p in prefixes:
        if abs(v) < base:
            break
        prefix = p
        v /= base
    return v, prefix


def _small_prefix(v: float) -> tuple[float, str]:
    """Scale |v| < 1 up by thousands: (value, SI prefix)."""
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return v, prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    big, prefix = _scale_down(v, 1024, ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"))
    return _g4(big) + prefix


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return "0s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        seconds, minutes, hours, days = int(v) % 60, int(v) // 60 % 60, int(v) // 3600 % 24, int(v) // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_go_g(v, 4)}s"
    small, prefix = _small_prefix(v)
    return f"{_g4(small)}{prefix}s"


FUNCS = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": lambda v: _g4(v * 100) + "%",
    "humanizeDuration": humanize_duration,
}
STRING_FUNCS = {"toUpper": str.upper, "toLower": str.lower, "title": str.title}


def expand(text: str, labels: dict[str, str], value: float) -> str:
    """Expand every ``{{ ... }}`` action; an unknown label expands to ``<no value>`` as in Go."""

    def one(m: re.Match[str]) -> str:
        parts = [p.strip() for p in m.group(1).split("|")]
        head = parts[0].split()
        func = None
        if len(head) == 2 and head[0] in FUNCS:
            func, head = head[0], head[1:]
        token = head[0] if head else ""
        val: float | str
        if token in ("$value", ".Value"):
            val = value
        elif token.startswith(("$labels.", ".Labels.")):
            val = labels.get(token.split(".", 2)[-1] if token.startswith(".") else token.split(".", 1)[1], "<no value>")
        else:
            return m.group(0)
        chain = ([func] if func else []) + parts[1:]
        for f in chain:
            if f in FUNCS:
                val = FUNCS[f](float(val))
            elif f in STRING_FUNCS:
                val = STRING_FUNCS[f](str(val) if not isinstance(val, float) else go_float(val))
        return go_float(val) if isinstance(val, float) else str(val)

    return _ACTION.sub(one, text)
