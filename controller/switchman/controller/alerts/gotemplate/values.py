"""The Go values a template works on, as Python values: ``str`` (Go
``string``), :class:`HTML` (``template.HTML``), ``bool``, ``int``, ``float``
(``float64``), ``None`` (nil), :class:`StrMap` (``map[string]string``),
:class:`AnyMap` (``map[string]interface {}``), :class:`Struct` and
:class:`Pointer`-like values that carry their Go type name for messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class HTML(str):
    """``html/template.HTML`` (what ``safeHtml`` returns): a string of its own type."""

    __slots__ = ()


class StrMap(dict[str, str]):
    """``map[string]string``; a missing key reads as ``""`` (``missingkey=zero``)."""

    zero: object = ""
    go_type = "map[string]string"


class AnyMap(dict[str, object]):
    """``map[string]interface {}``; a missing key reads as nil."""

    zero: object = None
    go_type = "map[string]interface {}"


@dataclass(frozen=True)
class Struct:
    """A Go struct value: its exported fields in declaration order."""

    go_type: str
    fields: dict[str, object]
    pointer: bool = False  # printed as &{...}


@dataclass(frozen=True)
class Opaque:
    """A value with a ``String()`` method (``*time.Time``): printed by ``text``."""

    go_type: str
    text: str


@dataclass
class Vector:
    """``template.queryResult``: the samples a ``query`` returned."""

    samples: list[Struct] = field(default_factory=list)
    go_type = "template.queryResult"


@dataclass(frozen=True)
class Func:
    """A template function with Go's signature: parameter types (``any``,
    ``string``, ``float64``, ``int``, ``bool`` or a Go type name) and whether
    the last one is variadic; ``call`` raises :class:`FuncError` for the
    function's own error."""

    params: tuple[str, ...]
    call: Callable[..., object]
    variadic: bool = False


class FuncError(Exception):
    """The error a template function returned (``error calling NAME: ...``)."""


def type_name(v: object) -> str:
    """The Go type of a value, as ``%T`` and reflect print it."""
    if v is None:
        return "<nil>"
    if isinstance(v, HTML):
        return "template.HTML"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, StrMap | AnyMap | Vector | Struct | Opaque):
        return v.go_type
    if isinstance(v, list):
        return "[]interface {}"
    return type(v).__name__


def kind(v: object) -> str:
    """The reflect kind that comparisons and ``len`` go by."""
    if v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, Vector | list):
        return "slice"
    if isinstance(v, Struct):
        return "ptr" if v.pointer else "struct"
    return "ptr"


def truth(v: object) -> bool:
    """Go template truth: false, 0, nil and empty strings, maps and slices are false."""
    if v is None:
        return False
    if isinstance(v, bool | int | float | str | dict | list):
        return bool(v)
    if isinstance(v, Vector):
        return bool(v.samples)
    return True
