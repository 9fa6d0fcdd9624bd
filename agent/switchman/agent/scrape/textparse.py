"""Prometheus' text exposition format (0.0.4), parsed line by line: what a
scrape reads. Tested against prometheus_client's parser; about ten times
faster on node_exporter's output because it builds no family objects."""

from __future__ import annotations

import math
from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]


class ParseError(ValueError):
    """A line that is not in the text format; the message names the line."""


@dataclass(frozen=True, slots=True)
class Scraped:
    name: str
    labels: Labels  # in exposition order
    value: float
    timestamp_ms: int | None


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def _float(text: str, line_no: int) -> float:
    try:
        return float(text)  # accepts NaN, +Inf, -Inf, 1e3 as Go's ParseFloat does
    except ValueError:
        raise ParseError(f"line {line_no}: {text!r} is not a number") from None


def _labels(line: str, start: int, line_no: int) -> tuple[Labels, int]:
    """Parse ``{a="b",...}`` from ``line[start] == "{"``; returns the labels and the index after ``}``."""
    out: list[tuple[str, str]] = []
    i, n = start + 1, len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == "}":
            return tuple(out), i + 1
        eq = line.find("=", i)
        if eq < 0:
            raise ParseError(f'line {line_no}: expected label="value"')
        name = line[i:eq].strip()
        if not name or not (name[0].isalpha() or name[0] == "_"):
            raise ParseError(f"line {line_no}: invalid label name {name!r}")
        i = eq + 1
        while i < n and line[i] in " \t":
            i += 1
        if i >= n or line[i] != '"':
            raise ParseError(f"line {line_no}: label {name}: expected a quoted value")
        i += 1
        close = line.find('"', i)
        if close < 0:
            raise ParseError(f"line {line_no}: label {name}: unterminated value")
        if line.find("\\", i, close) < 0:
            value, i = line[i:close], close + 1
        else:
            chars: list[str] = []
            while i < n and line[i] != '"':
                c = line[i]
                if c == "\\" and i + 1 < n:
                    nxt = line[i + 1]
                    chars.append(_ESCAPES.get(nxt, "\\" + nxt))
                    i += 2
                    continue
                chars.append(c)
                i += 1
            if i >= n:
                raise ParseError(f"line {line_no}: label {name}: unterminated value")
            value, i = "".join(chars), i + 1
        out.append((name, value))
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == ",":
            i += 1
        elif i < n and line[i] == "}":
            return tuple(out), i + 1
        else:
            raise ParseError(f"line {line_no}: expected ',' or '}}' after label {name}")


def parse_text(text: str) -> tuple[list[Scraped], dict[str, str]]:
    """Every sample, and each family's ``# TYPE`` (counter, gauge, histogram, summary, untyped).

    :raises ParseError: naming the first bad line.
    """
    samples: list[Scraped] = []
    types: dict[str, str] = {}
    for line_no, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3].strip()
            continue
        brace = line.find("{")
        space = line.find(" ")
        if brace >= 0 and (space < 0 or brace < space):
            name = line[:brace].strip()
            labels, end = _labels(line, brace, line_no)
            rest = line[end:].split()
        else:
            fields = line.split()
            name, labels, rest = fields[0], (), fields[1:]
        if not rest or len(rest) > 2:
            raise ParseError(f"line {line_no}: expected a value (and an optional timestamp) after {name}")
        value = _float(rest[0], line_no)
        ts = None
        if len(rest) == 2:
            t = _float(rest[1], line_no)
            if math.isnan(t) or math.isinf(t):
                raise ParseError(f"line {line_no}: bad timestamp {rest[1]!r}")
            ts = int(t)
        samples.append(Scraped(name, labels, value, ts))
    return samples, types
