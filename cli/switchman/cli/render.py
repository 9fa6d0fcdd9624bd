"""Output: tables and bars with rich for people, JSON or YAML documents for scripts."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from rich.console import Console

SPARK = "▁▂▃▄▅▆▇█"


class Markup(str):
    """Text the CLI writes with rich markup in it (``[red]down[/red]``). A table
    prints such a cell as markup and every other cell as it is, so data with
    brackets in it (``[critical] disk full``, ``a[5m]``) is never eaten."""


def esc(text: object) -> str:
    """Data to put inside a markup line: its brackets print as they are."""
    from rich.markup import escape

    return escape(str(text))


class Output:
    """rich is imported when an Output is made and PyYAML for a YAML document,
    not with this module (so ``switchman --version`` and usage errors stay fast)."""

    def __init__(self, fmt: str = "table", color: bool = True) -> None:
        from rich.console import Console

        self.fmt = fmt
        # a pipe gets whole lines rather than 80 columns cut with ellipses
        width = None if sys.stdout.isatty() else 240
        self.console: Console = Console(no_color=not color, highlight=False, width=width)

    def document(self, doc: Any) -> None:
        """Print a stable machine-readable document (``-o json|yaml``)."""
        if self.fmt == "yaml":
            import yaml

            sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        else:
            sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
        from rich.table import Table

        t = Table(title=title, show_edge=False, header_style="bold", box=None, pad_edge=False)
        for c in columns:
            t.add_column(c)
        for r in rows:
            t.add_row(*(c if isinstance(c, Markup) else esc(c) for c in r))
        self.console.print(t)

    def line(self, text: str = "") -> None:
        """A line of rich markup (``[bold]...[/bold]``): only for text the CLI writes."""
        self.console.print(text)

    def raw(self, text: str) -> None:
        """Print ``text`` exactly as it is (a spec, a report): no markup, no
        wrapping, no tab expansion, so what is printed parses back."""
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def message_doc(
    msg: Message, *, drop: Collection[str] = (), rename: Mapping[str, str] | None = None, **values: Any
) -> dict[str, Any]:
    """A message's fields as a JSON document, in field order: protobuf's JSON
    mapping (``MessageToDict`` with the proto field names and every field
    present), except that numbers stay the numbers the message holds (the
    mapping writes 64-bit integers as strings and NaN as ``"NaN"``) and a
    nested message is a document made the same way.

    ``drop`` leaves fields out; ``rename`` gives a field another name in the
    same place; ``values`` gives a field (by its name in the document) the
    value the documented JSON needs: a time as RFC 3339, an enum as its word.
    """
    from google.protobuf.descriptor import FieldDescriptor
    from google.protobuf.json_format import MessageToDict

    numbers = {FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64, FieldDescriptor.CPPTYPE_DOUBLE}
    plain = MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    names = rename or {}
    doc: dict[str, Any] = {}
    for f in msg.DESCRIPTOR.fields:
        if f.name in drop or f.name not in plain:
            continue
        name = names.get(f.name, f.name)
        value = getattr(msg, f.name)
        repeated = f.is_repeated
        if name in values:
            doc[name] = values.pop(name)
        elif f.cpp_type in numbers:
            doc[name] = list(value) if repeated else value
        elif f.message_type is not None and not f.message_type.GetOptions().map_entry:
            doc[name] = [message_doc(m) for m in value] if repeated else message_doc(value)
        else:
            doc[name] = plain[f.name]
    if values:
        raise TypeError(f"{msg.DESCRIPTOR.name} has no field {sorted(values)[0]!r} in this document")
    return doc


def iso(ms: int) -> str:
    if ms <= 0:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def when(ms: int) -> str | None:
    """A moment in a JSON document: RFC 3339, or None (``null``) when it has
    not happened (0)."""
    return iso(ms) or None


def ago(ms: int, now_ms: int) -> str:
    if ms <= 0:
        return "never"
    s = max(0, (now_ms - ms) // 1000)
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m ago"
    if s < 86400:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


def bar(fraction: float, width: int = 20) -> str:
    """A compact bar such as ``█████████░░░░``."""
    f = min(1.0, max(0.0, fraction))
    full = round(f * width)
    return "█" * full + "░" * (width - full)


def sparkline(values: Sequence[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    top = len(SPARK) - 1
    return "".join(SPARK[min(top, int((v - lo) / span * top))] if math.isfinite(v) else " " for v in values)


def fmt_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.6g}"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
