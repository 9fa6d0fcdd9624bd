"""Probe specs (from TOML tables or the wire) and one probe's outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from switchman.proto.durations import DurationError, parse_duration_s
from switchman.proto.validate import ValidationError, check_identifier


class ProbeError(ValueError):
    """A probe spec that cannot be used; the message names the field."""


class Kind(StrEnum):
    HTTP = "http"
    TCP = "tcp"
    EXEC = "exec"
    GRPC = "grpc"


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    kind: Kind
    interval: float = 10.0
    timeout: float = 5.0
    success_before_passing: int = 1
    failures_before_critical: int = 1
    service: str = ""
    # http
    method: str = "GET"
    path: str = "/"
    url: str = ""
    status_min: int = 200
    status_max: int = 399
    body_contains: str = ""
    body_regex: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tls_skip_verify: bool = False
    # tcp / grpc / http target when bound to a slot: host:port
    address: str = ""
    grpc_service: str = ""
    # exec
    command: tuple[str, ...] = ()

    def bound(self, address: str) -> ProbeSpec:
        """The same probe aimed at ``address`` (a slot's back port)."""
        return ProbeSpec(**{**self.__dict__, "address": address, "url": ""})


@dataclass(frozen=True)
class ProbeOutcome:
    """One run: success, warning (exec exit 1), how long, what was seen."""

    success: bool
    duration_s: float
    warning: bool = False
    http_status: int = 0
    output: str = ""


_FIELDS = {
    "name",
    "kind",
    "interval",
    "timeout",
    "success_before_passing",
    "failures_before_critical",
    "service",
    "method",
    "path",
    "url",
    "status",
    "status_min",
    "status_max",
    "body_contains",
    "body_regex",
    "headers",
    "tls_skip_verify",
    "tls_verify",
    "address",
    "grpc_service",
    "command",
}


def _dur(where: str, key: str, value: object) -> float:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return parse_duration_s(str(value))
    except DurationError:
        raise ProbeError(f"{where}: {key}: expected a duration such as 500ms or 10s, got {value!r}") from None


def _http_checks(table: dict[str, object], where: str) -> tuple[int, int, str]:
    """The expected status range and body regex of an http probe."""
    status_min, status_max = 200, 399
    if "status" in table:  # "200-299" or 200
        text = str(table["status"])
        m = re.fullmatch(r"(\d{3})(?:-(\d{3}))?", text)
        if not m:
            raise ProbeError(f"{where}: status: expected a code or a range such as 200-299, got {text!r}")
        status_min = int(m.group(1))
        status_max = int(m.group(2) or m.group(1))
    status_min = int(table.get("status_min", status_min))  # type: ignore[call-overload]
    status_max = int(table.get("status_max", status_max))  # type: ignore[call-overload]
    body_regex = str(table.get("body_regex", ""))
    if body_regex:
        try:
            re.compile(body_regex)
        except re.error as exc:
            raise ProbeError(f"{where}: body_regex: {exc}") from None
    return status_min, status_max, body_regex


def parse_probe(table: dict[str, object], where: str = "probe", *, needs_target: bool = True) -> ProbeSpec:
    """A ``[[probe]]`` table (or a service's ``[probe]``) as a spec.

    :raises ProbeError: naming the field and what was expected.
    """
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ProbeError(f"{where}: unknown field(s) {', '.join(unknown)}")
    name = str(table.get("name", "health"))
    try:
        check_identifier(f"{where}: name", name)
    except ValidationError as exc:
        raise ProbeError(str(exc)) from None
    try:
        kind = Kind(str(table.get("kind", "")))
    except ValueError:
        raise ProbeError(f"{where}: kind: expected http, tcp, exec or grpc, got {table.get('kind')!r}") from None
    interval = _dur(where, "interval", table.get("interval", "10s"))
    timeout = _dur(where, "timeout", table.get("timeout", min(5.0, interval)))
    if interval <= 0 or timeout <= 0:
        raise ProbeError(f"{where}: interval and timeout must be greater than 0")
    if timeout > interval:
        raise ProbeError(f"{where}: timeout ({timeout}s) must not be longer than interval ({interval}s)")
    counts = {}
    for key in ("success_before_passing", "failures_before_critical"):
        v = table.get(key, 1)
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 100:
            raise ProbeError(f"{where}: {key}: expected a whole number from 1 to 100, got {v!r}")
        counts[key] = v
    status_min, status_max, body_regex = _http_checks(table, where)
    command = table.get("command", [])
    if kind is Kind.EXEC and (
        not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command)
    ):
        raise ProbeError(f"{where}: command: an exec probe needs a non-empty list of strings")
    headers = table.get("headers", {})
    if not isinstance(headers, dict):
        raise ProbeError(f"{where}: headers: expected a table of strings")
    method = str(table.get("method", "GET")).upper()
    if method not in ("GET", "HEAD", "POST", "PUT", "OPTIONS"):
        raise ProbeError(f"{where}: method: {method!r} is not supported")
    tls_skip = bool(table.get("tls_skip_verify", not table.get("tls_verify", True)))
    address = str(table.get("address", ""))
    if needs_target and kind is not Kind.EXEC and not address and not (kind is Kind.HTTP and table.get("url")):
        raise ProbeError(
            f'{where}: address: a {kind.value} probe needs address = "HOST:PORT"'
            + (" or url" if kind is Kind.HTTP else "")
        )
    return ProbeSpec(
        name=name,
        kind=kind,
        interval=interval,
        timeout=timeout,
        success_before_passing=counts["success_before_passing"],
        failures_before_critical=counts["failures_before_critical"],
        service=str(table.get("service", "")),
        method=method,
        path=str(table.get("path", "/")),
        url=str(table.get("url", "")),
        status_min=status_min,
        status_max=status_max,
        body_contains=str(table.get("body_contains", "")),
        body_regex=body_regex,
        headers={str(k): str(v) for k, v in headers.items()},
        tls_skip_verify=tls_skip,
        address=address,
        grpc_service=str(table.get("grpc_service", "")),
        command=tuple(str(c) for c in command) if isinstance(command, list) else (),
    )
