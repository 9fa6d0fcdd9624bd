"""The generated protobuf modules, imported when a command first uses one.

Every command module imports ``ops_pb2`` and ``common_pb2`` from here rather
than from :mod:`switchman.proto.v1`, so building the parser (``switchman
--version``, ``--help``, ``completion``, a usage error) loads neither protobuf
nor gRPC. To mypy these are the real modules; at run time each is a stand-in
that imports the module on the first attribute read and hands the attribute
on. A module-level constant must not read one (that would import it at once).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["common_pb2", "enum_word", "ops_pb2"]


class _OnFirstUse:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
    from switchman.proto.v1 import common_pb2, ops_pb2
else:
    common_pb2 = _OnFirstUse("switchman.proto.v1.common_pb2")
    ops_pb2 = _OnFirstUse("switchman.proto.v1.ops_pb2")


def enum_word(enum: EnumTypeWrapper, value: int, unspecified: str = "-") -> str:
    """A proto enum value as the word the CLI shows: ``SLOT_STATE_HEALTHY`` is
    ``healthy``; 0 is ``unspecified``; a value this CLI does not know (a newer
    controller) is ``unknown``."""
    if value == 0:
        return unspecified
    try:
        name = enum.Name(value)
    except ValueError:
        return "unknown"
    return name.removeprefix(enum.Name(0).removesuffix("UNSPECIFIED")).lower()
