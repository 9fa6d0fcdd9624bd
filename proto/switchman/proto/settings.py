"""Daemon configuration: a TOML file, overridden key by key by flags.

Both daemons describe their keys with :class:`Key`, check the values with
:func:`build` and make their typed, frozen config from the same table with
:func:`make_config`. Every error names the file (or ``flag``) and the key,
and says what was expected.
"""

from __future__ import annotations

import argparse
import os
import socket
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from switchman.proto.channel import check_insecure_allowed, split_host_port
from switchman.proto.durations import DurationError, parse_duration_s
from switchman.proto.validate import ValidationError, check_labels

C = TypeVar("C")
Value = str | int | float | bool | list[str] | dict[str, str] | list[dict[str, object]] | None


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names where and why."""


def load_toml(path: str | Path) -> dict[str, object]:
    """Read a TOML file.

    :raises ConfigError: ``FILE: reason (at line L, column C)`` for syntax
        errors, or the OS error when unreadable.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from exc


def _as_str(v: object) -> str:
    if not isinstance(v, str):
        raise TypeError("a string")
    return v


def _as_int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            return int(v)
        raise TypeError("an integer")
    return v


def _as_bool(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "yes", "no"):
        return v.lower() in ("true", "1", "yes")
    raise TypeError("true or false")


def _as_duration(v: object) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    try:
        secs = parse_duration_s(_as_str(v))
    except DurationError as exc:
        raise TypeError("a duration such as 500ms, 10s, 5m or 1h30m") from exc
    return secs


def _as_address(v: object) -> str:
    s = _as_str(v)
    try:
        split_host_port(s)
    except ValueError as exc:
        raise TypeError("HOST:PORT, e.g. 127.0.0.1:7000") from exc
    return s


def _as_optional_address(v: object) -> str:
    return "" if v == "" else _as_address(v)


def _as_labels(v: object) -> dict[str, str]:
    if isinstance(v, list):  # from repeated --label K=V flags
        out: dict[str, str] = {}
        for item in v:
            k, sep, val = _as_str(item).partition("=")
            if not sep:
                raise TypeError(f"K=V pairs, and {item!r} has no '='")
            out[k.strip()] = val.strip()
        v = out
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise TypeError("a table of string values")
    try:
        return check_labels("labels", {str(k): str(x) for k, x in v.items()})
    except ValidationError as exc:
        raise TypeError(str(exc)) from exc


def _as_strlist(v: object) -> list[str]:
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TypeError("a list of strings")
    return list(v)


def _as_tables(v: object) -> list[dict[str, object]]:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise TypeError("an array of tables ([[name]] sections)")
    return [dict(x) for x in v]


_SIZE_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "kb": 1000, "mb": 1000**2, "gb": 1000**3}


def _as_size(v: object) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    s = _as_str(v).strip().lower()
    num = s.rstrip("kmgib")
    unit = s[len(num) :]
    if not num.isdigit() or unit not in _SIZE_UNITS:
        raise TypeError("a size such as 256MiB or 1GiB")
    return int(num) * _SIZE_UNITS[unit]


PARSERS: dict[str, Callable[[object], Value]] = {
    "str": _as_str,
    "int": _as_int,
    "bool": _as_bool,
    "duration": _as_duration,
    "address": _as_address,
    "optional_address": _as_optional_address,
    "labels": _as_labels,
    "strlist": _as_strlist,
    "tables": _as_tables,
    "size": _as_size,
}


@dataclass(frozen=True)
class Key:
    """One configuration key: its TOML name, kind (a key of :data:`PARSERS`)
    and default; ``attr`` is the config field it fills when that is not
    named like the key (``probe`` tables fill ``probes``)."""

    name: str
    kind: str
    default: Value
    help: str = ""
    attr: str = ""


def check_resolvable(source: str, key: str, address: str) -> None:
    """The host part of ``address`` resolves (a down peer is fine; a typo is not).

    :raises ConfigError: naming the key and the host.
    """
    host, port = split_host_port(address)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(
            f"{source}: key {key!r}: cannot resolve {host!r} in {address} ({exc.strerror or exc})"
        ) from None


def check_common(v: Mapping[str, Value], source: str, addresses: Sequence[str]) -> None:
    """Checks both daemons make: log format and level, and TLS material or a
    loopback-only ``--insecure``.

    :raises ConfigError: naming the key or the address at fault.
    """
    if v.get("log_format") not in ("text", "json"):
        raise ConfigError(f"{source}: key 'log_format': expected text or json")
    if v.get("log_level") not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{source}: key 'log_level': expected debug, info, warning or error")
    if v.get("insecure"):
        try:
            check_insecure_allowed([a for a in addresses if a])
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    elif not v.get("tls_dir"):
        raise ConfigError(f"{source}: no TLS material: give --tls-dir DIR (ca.pem, cert.pem, key.pem) or --insecure")


class Values(dict[str, Value]):
    """Checked values by key, with typed accessors (the kinds are already checked)."""

    def get_str(self, key: str) -> str:
        v = self[key]
        return "" if v is None else v if isinstance(v, str) else repr(v)

    def get_float(self, key: str) -> float:
        v = self[key]
        assert isinstance(v, int | float)
        return float(v)

    def get_int(self, key: str) -> int:
        v = self[key]
        assert isinstance(v, int)
        return v

    def get_bool(self, key: str) -> bool:
        return bool(self[key])

    def get_strlist(self, key: str) -> list[str]:
        v = self[key]
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

    def get_labels(self, key: str) -> dict[str, str]:
        v = self[key]
        return dict(v) if isinstance(v, dict) else {}

    def get_tables(self, key: str) -> list[dict[str, object]]:
        v = self[key]
        return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


_TYPED: dict[str, Callable[[Values, str], object]] = {
    "str": Values.get_str,
    "address": Values.get_str,
    "optional_address": Values.get_str,
    "int": Values.get_int,
    "size": Values.get_int,
    "bool": Values.get_bool,
    "duration": Values.get_float,
    "labels": Values.get_labels,
    "strlist": Values.get_strlist,
    "tables": Values.get_tables,
}


def make_config(cls: Callable[..., C], keys: Sequence[Key], values: Values, **worked_out: object) -> C:
    """The daemon's config: every key fills its field, typed by its kind (an
    unset key of a string kind is ``""``); ``worked_out`` gives the fields
    the loader computes (a default taken from another key, a path, the
    source) and wins over a key of the same name.

    :raises TypeError: a key without a field, or a field without a value.
    """
    typed = {key.attr or key.name: _TYPED[key.kind](values, key.name) for key in keys}
    return cls(**(typed | worked_out))


def build(
    keys: Sequence[Key], file_values: Mapping[str, object], flag_values: Mapping[str, object], source: str
) -> Values:
    """Merge file and flags (flags win), check kinds, reject unknown keys.

    :raises ConfigError: ``SOURCE: key 'k': expected ...``.
    """
    known = {k.name: k for k in keys}
    for name in file_values:
        if name not in known:
            raise ConfigError(f"{source}: unknown key {name!r} (known keys: {', '.join(sorted(known))})")
    out = Values()
    for key in keys:
        where = source
        raw: object = key.default
        if key.name in file_values:
            raw = file_values[key.name]
        if flag_values.get(key.name) is not None:
            raw, where = flag_values[key.name], "command line"
        if raw is None:
            out[key.name] = None
            continue
        try:
            out[key.name] = PARSERS[key.kind](raw)
        except TypeError as exc:
            raise ConfigError(f"{where}: key {key.name!r}: expected {exc}, got {raw!r}") from None
    return out


def add_flags(parser: argparse.ArgumentParser, keys: Sequence[Key], singular: Mapping[str, str]) -> None:
    """One flag per key (``data_dir`` -> ``--data-dir``). List and label keys
    are repeatable flags named by ``singular`` (``labels`` -> ``--label``).
    Every flag defaults to None so that the file's value stands unless given."""
    for key in keys:
        if key.kind == "tables":
            continue
        flag = "--" + singular.get(key.name, key.name).replace("_", "-")
        if key.kind == "bool":
            parser.add_argument(flag, dest=key.name, action="store_const", const=True, default=None, help=key.help)
        elif key.kind in ("labels", "strlist"):
            parser.add_argument(flag, dest=key.name, action="append", default=None, metavar="VALUE", help=key.help)
        else:
            parser.add_argument(flag, dest=key.name, default=None, metavar=key.kind.upper(), help=key.help)


def flag_values(ns: argparse.Namespace, keys: Sequence[Key]) -> dict[str, object]:
    return {k.name: getattr(ns, k.name, None) for k in keys}


def check_writable_dir(data_dir: Path, source: str) -> None:
    """Create ``data_dir`` if needed and prove it writable by writing a file.

    :raises ConfigError: naming the directory and the OS error.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{source}: key 'data_dir': cannot create {data_dir}: {exc.strerror or exc}") from None
    probe = data_dir / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{source}: key 'data_dir': {data_dir} is not writable: {exc.strerror or exc}") from None
