"""Regular expressions as Prometheus runs them: RE2 (through the ``google-re2``
binding), fully anchored as ``^(?:re)$``, with Go's ``$1`` / ``${name}``
replacement expansion for ``label_replace``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the caller, not logged by RE2
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(frozen=True)
class Regex:
    """One compiled, anchored pattern."""

    pattern: str
    _rx: Any

    def matches(self, text: str) -> bool:
        return self._rx.search(text) is not None

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """The match's group spans (group 0 first; ``(-1, -1)`` for a group
        that took no part), or None without a match."""
        m = self._rx.search(text)
        if m is None:
            return None
        return [m.span(i) for i in range(self._rx.groups + 1)]

    def group_index(self) -> dict[str, int]:
        return dict(self._rx.groupindex)

    def expand(self, template: str, text: str) -> str | None:
        """Go's ``Regexp.ExpandString`` of ``template`` for the match of
        ``text``; None without a match."""
        spans = self.spans(text)
        if spans is None:
            return None
        names = self.group_index()
        out: list[str] = []
        i, n = 0, len(template)
        while i < n:
            j = template.find("$", i)
            if j < 0:
                out.append(template[i:])
                break
            out.append(template[i:j])
            i = j + 1
            if i < n and template[i] == "$":
                out.append("$")
                i += 1
                continue
            name, i2 = _extract(template, i)
            if name is None:
                out.append("$")  # malformed: the $ is text
                continue
            i = i2
            index = int(name) if name.isdigit() else names.get(name, -1)
            if 0 <= index < len(spans) and spans[index][0] >= 0:
                out.append(text[spans[index][0] : spans[index][1]])
        return "".join(out)


def _extract(template: str, i: int) -> tuple[str | None, int]:
    """The group name after a ``$`` at ``i``: ``name`` or ``{name}``."""
    brace = i < len(template) and template[i] == "{"
    j = i + 1 if brace else i
    k = j
    while k < len(template) and template[k] in _NAME_CHARS:
        k += 1
    if k == j:
        return None, i
    name = template[j:k]
    if brace:
        if k >= len(template) or template[k] != "}":
            return None, i
        k += 1
    return name, k


def compile_anchored(pattern: str) -> Regex:
    """``pattern`` compiled by RE2 as Prometheus compiles it, ``^(?:pattern)$``.

    :raises re.error: RE2 refuses the pattern (with RE2's reason).
    """
    _refuse_go_only(pattern)
    try:
        return Regex(pattern, re2.compile(f"^(?:{pattern})$", _OPTIONS))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise re.error(f"error parsing regexp: {reason}", pattern) from None


def _refuse_go_only(pattern: str) -> None:
    """What this RE2 accepts and Go's ``regexp`` (Prometheus' engine) refuses:
    ``(?<name>...)`` groups and the ``\\C`` escape.

    :raises re.error: with Go's reason.
    """
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if pattern.startswith("Q", i + 1):  # \Q...\E is literal text
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            if not in_class and pattern.startswith("C", i + 1):
                raise re.error("error parsing regexp: invalid escape sequence: `\\C`", pattern)
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[" and pattern.startswith(":", i + 1):  # [:alpha:] inside a class
                end = pattern.find(":]", i + 2)
                i = i + 1 if end < 0 else end + 2
                continue
        elif c == "[":
            in_class = True
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):  # a leading ] is literal
                i += 1
            continue
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            raise re.error("error parsing regexp: invalid or unsupported Perl syntax: `(?<`", pattern)
        i += 1
