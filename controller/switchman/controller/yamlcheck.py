"""Checking YAML documents (drill, SLO and rule files) node by node, so that
every problem is reported as ``FILE:LINE:COL: message``.

A :class:`Checker` collects the problems of one file. :meth:`Checker.fields`
wraps a mapping node in :class:`Fields`, whose getters return a key's value
(as text, a duration, a map of strings, a list, a nested mapping) and whose
:meth:`Fields.at` gives the node to point at; unknown keys are reported at
the key. What a file requires and the words of its messages stay with its
parser."""

from __future__ import annotations

from collections.abc import Callable, Collection

import yaml
from switchman.proto.durations import DurationError, parse_duration_ms


class NotYAML(ValueError):
    """Text that does not compose: ``where`` is ``FILE:LINE:COL`` (or
    ``FILE``), ``problem`` what PyYAML said."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def compose(text: str, file: str) -> yaml.Node | None:
    """The document's root node (None when it is empty).

    :raises NotYAML: with the position PyYAML gives.
    """
    try:
        return yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise NotYAML(where, str(getattr(exc, "problem", exc))) from None


def pos(file: str, node: yaml.Node | None) -> str:
    """``FILE:LINE:COL`` of a node (``FILE`` without one)."""
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node is not None else file


def scalar(node: yaml.Node | None) -> str:
    """A scalar's text; ``""`` for anything else."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _key_name(node: yaml.Node) -> str:
    """A key as written: a list or mapping used as a key (``? [a, b]``) is
    named by its source text, so that it is reported rather than crashing."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    start, end = node.start_mark, node.end_mark
    source = start.buffer[start.index : end.index] if start.buffer is not None else type(node).__name__
    return source if len(source) <= 40 else source[:39] + "…"


class Checker:
    """The problems of one file, in the order found."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[str] = []

    def err(self, node: yaml.Node | None, message: str) -> None:
        self.errors.append(f"{pos(self.file, node)}: {message}")

    def err_at(self, position: str, message: str) -> None:
        """A problem at a position worked out by the caller (inside a scalar)."""
        self.errors.append(f"{position}: {message}")

    def fields(self, node: yaml.Node | None) -> Fields:
        """``node``'s entries; none when it is absent or not a mapping."""
        return Fields(self, node)

    def mapping(self, node: yaml.Node | None, message: str) -> Fields | None:
        """``node`` as a mapping, or None with ``message`` reported at it."""
        if not isinstance(node, yaml.MappingNode):
            self.err(node, message)
            return None
        return Fields(self, node)

    def duration_ms(self, node: yaml.Node | None, what: str, *, positive: bool = False) -> int | None:
        """A duration such as ``1h30m``, or None with ``WHAT: reason`` reported."""
        try:
            ms = parse_duration_ms(scalar(node))
        except DurationError as exc:
            self.err(node, f"{what}: {exc}")
            return None
        if positive and ms <= 0:
            self.err(node, f"{what}: must be greater than 0")
        return ms

    def raise_if_any(self, error: Callable[[str], Exception]) -> None:
        """:raises error: with every problem, one per line, when there is any."""
        if self.errors:
            raise error("\n".join(self.errors))


class Fields:
    """The entries of one mapping node, by key, with the nodes they came from."""

    def __init__(self, checker: Checker, node: yaml.Node | None) -> None:
        self.checker = checker
        self.node = node
        self.is_mapping = isinstance(node, yaml.MappingNode)
        self.entries: dict[str, tuple[yaml.Node, yaml.Node]] = (
            {_key_name(k): (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}
        )

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> yaml.Node | None:
        """The value's node."""
        return self.entries[key][1] if key in self.entries else None

    def key(self, key: str) -> yaml.Node | None:
        """The key's own node (where an unknown or misplaced key is reported)."""
        return self.entries[key][0] if key in self.entries else None

    def at(self, key: str) -> yaml.Node | None:
        """Where to point about ``key``: its value, or this mapping when it is missing."""
        node = self.get(key)
        return node if node is not None else self.node

    def text(self, key: str, default: str = "") -> str:
        """The value as text (``""`` for a list or a mapping), or ``default`` when missing."""
        return scalar(self.entries[key][1]) if key in self.entries else default

    def fields(self, key: str) -> Fields:
        """The value's own entries (none when missing or not a mapping)."""
        return Fields(self.checker, self.get(key))

    def strings(self, key: str) -> dict[str, str]:
        """The value as a map of strings (none when missing or not a mapping)."""
        return {k: scalar(v) for k, (_, v) in self.fields(key).entries.items()}

    def duration_ms(self, key: str, default: int, what: str = "", *, positive: bool = False) -> int:
        """The value as milliseconds; ``default`` when missing or (reported) not a duration."""
        node = self.get(key)
        if node is None:
            return default
        ms = self.checker.duration_ms(node, what or key, positive=positive)
        return default if ms is None else ms

    def items(self, key: str, what: str = "") -> list[yaml.Node]:
        """The value's items: none when missing, and ``WHAT: expected a list`` when not a list."""
        node = self.get(key)
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.checker.err(node, f"{what or key}: expected a list")
            return []
        return list(node.value)

    def unknown(self, known: Collection[str], message: str) -> None:
        """Report each key not in ``known`` at the key, in key order:
        ``message`` is formatted with ``key`` and ``known`` (the known keys, sorted, comma-separated)."""
        names = ", ".join(sorted(known))
        for name in sorted(set(self.entries) - set(known)):
            self.checker.err(self.entries[name][0], message.format(key=name, known=names))
