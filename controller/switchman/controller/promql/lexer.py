"""PromQL tokens with their positions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from switchman.controller.promql.errors import PromQLError


class T(StrEnum):
    IDENT = "identifier"
    NUMBER = "number"
    STRING = "string"
    DURATION = "duration"
    LBRACE = "'{'"
    RBRACE = "'}'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    COLON = "':'"
    AT = "'@'"
    OP = "operator"
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str
    pos: int


_DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[iI][nN][fF]|[nN][aA][nN]")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS = ("==", "!=", "=~", "!~", ">=", "<=", "+", "-", "*", "/", "%", "^", ">", "<", "=")
_SINGLE = {
    "{": T.LBRACE,
    "}": T.RBRACE,
    "[": T.LBRACKET,
    "]": T.RBRACKET,
    "(": T.LPAREN,
    ")": T.RPAREN,
    ",": T.COMMA,
    ":": T.COLON,
    "@": T.AT,
}
_DEPTH = {"[": 1, "]": -1}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def tokenize(expr: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(expr)
    brackets = 0
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":  # comment to end of line
            while i < n and expr[i] != "\n":
                i += 1
            continue
        if c in _SINGLE and (c != ":" or brackets):  # outside [...] a colon starts a metric name
            out.append(Token(_SINGLE[c], c, i))
            brackets += _DEPTH.get(c, 0)
            i += 1
            continue
        if c in "\"'`":
            text, j = _string(expr, i)
            out.append(Token(T.STRING, text, i))
            i = j
            continue
        if c in "0123456789" or (c == "." and i + 1 < n and expr[i + 1] in "0123456789"):
            m = _DURATION.match(expr, i)
            if m and (m.end() == n or not (expr[m.end()].isalnum() or expr[m.end()] == ".")):
                out.append(Token(T.DURATION, m.group(0), i))
                i = m.end()
                continue
            m = _NUMBER.match(expr, i)
            if m:
                out.append(Token(T.NUMBER, m.group(0), i))
                i = m.end()
                continue
        m = _IDENT.match(expr, i)
        if m:
            out.append(Token(T.IDENT, m.group(0), i))
            i = m.end()
            continue
        for op in _OPS:
            if expr.startswith(op, i):
                out.append(Token(T.OP, op, i))
                i += len(op)
                break
        else:
            raise PromQLError(f"unexpected character {c!r}", i, expr)
    out.append(Token(T.EOF, "", n))
    return out


def _string(expr: str, start: int) -> tuple[str, int]:
    quote = expr[start]
    i = start + 1
    buf: list[str] = []
    while i < len(expr):
        c = expr[i]
        if c == quote:
            return "".join(buf), i + 1
        if c == "\\" and quote != "`":
            if i + 1 >= len(expr):
                break
            e = expr[i + 1]
            if e in _ESCAPES:
                buf.append(_ESCAPES[e])
                i += 2
                continue
            if e in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                hexs = expr[i + 2 : i + 2 + width]
                if len(hexs) == width and all(h in "0123456789abcdefABCDEF" for h in hexs):
                    buf.append(chr(int(hexs, 16)))
                    i += 2 + width
                    continue
            raise PromQLError(f"unknown escape sequence '\\{e}' in string", i, expr)
        if c == "\n" and quote != "`":
            break
        buf.append(c)
        i += 1
    raise PromQLError("unterminated string", start, expr)
