"""Each fault kind's parameters, parsed and checked before anything is
recorded or applied. Errors name the parameter and what was expected."""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

from switchman.agent.faults.errors import InvalidFault
from switchman.proto.durations import DurationError, parse_duration_ms

SERVICE_KINDS = frozenset({"latency", "errors", "blackhole", "bandwidth", "kill", "pause"})
ROUTER_KINDS = frozenset({"latency", "errors", "blackhole", "bandwidth"})
KINDS: dict[str, frozenset[str]] = {
    "cpu": frozenset({"workers", "load"}),
    "memory": frozenset({"size"}),
    "latency": frozenset({"latency", "jitter", "stream", "probability"}),
    "errors": frozenset({"probability"}),
    "blackhole": frozenset(),
    "bandwidth": frozenset({"rate"}),
    "kill": frozenset({"slot", "signal"}),
    "pause": frozenset({"slot"}),
    "disk_fill": frozenset({"path", "size", "min_free"}),
    "partition": frozenset(),
}


@dataclass(frozen=True)
class FaultParams:
    kind: str
    duration_ms: int
    service: str = ""
    workers: int = 1
    load: float = 1.0
    size_mib: int = 0
    latency_ms: int = 0
    jitter_ms: int = 0
    stream: str = "both"
    probability: float = 1.0
    rate_kib: int = 0
    slot: str = ""  # "" = the active slot
    signal: int = int(signal.SIGKILL)
    path: str = ""
    min_free_percent: float = 5.0
    raw: dict[str, str] = field(default_factory=dict)


def _int(params: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    text = params.get(key)
    if text is None:
        return default
    try:
        v = int(text)
    except ValueError:
        raise InvalidFault(f"{key}: expected a whole number, got {text!r}") from None
    if not lo <= v <= hi:
        raise InvalidFault(f"{key}: must be between {lo} and {hi}, got {v}")
    return v


def _float(params: Mapping[str, str], key: str, default: float, lo: float, hi: float) -> float:
    text = params.get(key)
    if text is None:
        return default
    try:
        v = float(text.rstrip("%"))
    except ValueError:
        raise InvalidFault(f"{key}: expected a number, got {text!r}") from None
    if not lo <= v <= hi:
        raise InvalidFault(f"{key}: must be between {lo:g} and {hi:g}, got {v:g}")
    return v


def _ms(params: Mapping[str, str], key: str, default: int, hi_ms: int) -> int:
    text = params.get(key)
    if text is None:
        return default
    try:
        v = parse_duration_ms(text)
    except DurationError as exc:
        raise InvalidFault(f"{key}: {exc}") from None
    if not 0 <= v <= hi_ms:
        raise InvalidFault(f"{key}: must be at most {hi_ms // 1000}s, got {text}")
    return v


def _signal(text: str | None) -> int:
    if text is None:
        return int(signal.SIGKILL)
    name = text.upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return int(signal.Signals[name]) if not text.isdigit() else int(signal.Signals(int(text)))
    except (KeyError, ValueError):
        raise InvalidFault(f"signal: {text!r} is not a signal name such as KILL or TERM") from None


def parse(kind: str, duration_ms: int, service: str, params: Mapping[str, str], max_duration_ms: int) -> FaultParams:
    """:raises InvalidFault:"""
    if kind not in KINDS:
        raise InvalidFault(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    if duration_ms <= 0:
        raise InvalidFault("duration: every fault needs a duration greater than 0")
    if duration_ms > max_duration_ms:
        raise InvalidFault(
            f"duration: {duration_ms // 1000}s is longer than this agent's cap ({max_duration_ms // 1000}s)"
        )
    unknown = sorted(set(params) - KINDS[kind])
    if unknown:
        known = ", ".join(sorted(KINDS[kind])) or "none"
        raise InvalidFault(f"{kind}: unknown parameter {unknown[0]!r} (known: {known})")
    if kind in SERVICE_KINDS and not service:
        raise InvalidFault(f"{kind}: needs a service (--service NAME)")
    if kind not in SERVICE_KINDS and service:
        raise InvalidFault(f"{kind}: does not take a service")
    slot = params.get("slot", "")
    if slot not in ("", "blue", "green"):
        raise InvalidFault(f"slot: {slot!r} is not blue or green")
    stream = params.get("stream", "both")
    if stream not in ("up", "down", "both"):
        raise InvalidFault(f"stream: {stream!r} is not up, down or both")
    if kind == "latency" and "latency" not in params:
        raise InvalidFault("latency: needs latency=DURATION (e.g. 200ms)")
    if kind == "bandwidth" and "rate" not in params:
        raise InvalidFault("bandwidth: needs rate=KiB/s")
    if kind in ("memory", "disk_fill") and "size" not in params:
        raise InvalidFault(f"{kind}: needs size=MiB")
    return FaultParams(
        kind=kind,
        duration_ms=duration_ms,
        service=service,
        workers=_int(params, "workers", 1, 1, 64),
        load=_float(params, "load", 100.0, 1.0, 100.0) / 100.0,
        size_mib=_int(params, "size", 0, 1, 1024 * 1024),
        latency_ms=_ms(params, "latency", 0, 60_000),
        jitter_ms=_ms(params, "jitter", 0, 60_000),
        stream=stream,
        probability=_float(params, "probability", 1.0, 0.0, 1.0),
        rate_kib=_int(params, "rate", 0, 1, 10 * 1024 * 1024),
        slot=slot,
        signal=_signal(params.get("signal")),
        path=params.get("path", ""),
        min_free_percent=_float(params, "min_free", 5.0, 0.0, 99.0),
        raw=dict(params),
    )
