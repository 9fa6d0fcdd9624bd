"""Service specs (SPEC 4.6): the TOML file an operator applies, the domain
value both sides use, and its wire form."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace

from switchman.proto.durations import DurationError, parse_duration_ms
from switchman.proto.probes import ProbeError, ProbeSpec, parse_probe
from switchman.proto.v1 import common_pb2
from switchman.proto.validate import ValidationError, check_identifier, check_labels

DRIVERS = ("process", "docker", "podman")
ROUTERS = ("builtin", "haproxy")
PROTOCOLS = ("tcp", "http")  # what the router understands of the front port's traffic
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = {"version", "port", "address", "slot"}


class SpecError(ValueError):
    """A service spec that cannot be used; names the file and the field."""


@dataclass(frozen=True)
class ServiceDef:
    name: str
    driver: str
    command: tuple[str, ...]
    image: str
    front_port: int
    blue_port: int
    green_port: int
    router: str = "builtin"
    protocol: str = "tcp"  # tcp: connections are proxied whole; http: each request is routed (ADR 0019)
    # (parsed: tcp by default, http by default with router = "haproxy")
    drain_timeout_ms: int = 30_000
    keep_previous: bool = True
    selector: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    probe: dict[str, object] = field(default_factory=dict)
    healthy_deadline_ms: int = 120_000
    haproxy_socket: str = ""  # router = "haproxy": attach to this admin socket instead of starting one
    metrics_path: str = ""  # the agent scrapes each running slot's back port at this path
    engine_args: tuple[str, ...] = ()  # docker / podman: global engine flags, before every subcommand
    run_args: tuple[str, ...] = ()  # docker / podman: extra flags of `run`, before the image
    revision: int = 0
    source_toml: str = ""

    def port(self, slot: str) -> int:
        return self.blue_port if slot == "blue" else self.green_port

    def probe_spec(self) -> ProbeSpec:
        # bound to each slot's back port when it runs
        return parse_probe(
            {"kind": "tcp", **self.probe, "service": self.name}, f"service {self.name}: probe", needs_target=False
        )


def _ms(file: str, key: str, value: object) -> int:
    try:
        return parse_duration_ms(str(value))
    except DurationError:
        raise SpecError(f"{file}: {key}: expected a duration such as 30s, got {value!r}") from None


def _port(file: str, key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise SpecError(f"{file}: {key}: expected a port number from 1 to 65535, got {value!r}")
    return value


def _choice(file: str, key: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SpecError(f"{file}: {key}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


# what the container drivers set themselves; a spec that sets them too would run a slot the agent cannot find
_DRIVER_RUN_FLAGS = ("--name", "--label", "-l", "--detach", "-d", "--restart", "--rm", "--log-driver", "--log-opt")


def _engine_flags(file: str, key: str, value: object, driver: str) -> tuple[str, ...]:
    """``engine_args`` / ``run_args``: a list of non-empty strings, for a container driver only."""
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
        raise SpecError(f'{file}: {key}: expected a list of non-empty strings such as ["--runtime", "runc"]')
    if value and driver == "process":
        raise SpecError(f"{file}: {key}: only the docker and podman drivers take engine flags (driver is process)")
    if value and not value[0].startswith("-"):
        raise SpecError(f"{file}: {key}: {value[0]!r} is not a flag (flags start with -)")
    if key == "run_args":
        for a in value:
            flag = a.split("=", 1)[0]
            if flag in _DRIVER_RUN_FLAGS:
                raise SpecError(f"{file}: run_args: {flag} is set by the {driver} driver itself")
    return tuple(value)


def parse_toml(text: str, file: str = "service.toml") -> ServiceDef:
    """:raises SpecError: one line naming the file, the line (for syntax) or field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{file}: invalid TOML: {exc}") from None
    return from_dict(doc, file, text)


def from_dict(doc: dict[str, object], file: str, source: str = "") -> ServiceDef:
    known = {
        "name",
        "driver",
        "command",
        "image",
        "front_port",
        "back_ports",
        "router",
        "protocol",
        "drain_timeout",
        "keep_previous",
        "selector",
        "env",
        "probe",
        "healthy_deadline",
        "haproxy_socket",
        "metrics_path",
        "engine_args",
        "run_args",
    }
    unknown = sorted(set(doc) - known)
    if unknown:
        raise SpecError(f"{file}: unknown key(s): {', '.join(unknown)}")
    try:
        name = check_identifier("name", str(doc.get("name", "")))
    except ValidationError as exc:
        raise SpecError(f"{file}: {exc}") from None
    driver = _choice(file, "driver", doc.get("driver", "process"), DRIVERS)
    router = _choice(file, "router", doc.get("router", "builtin"), ROUTERS)
    # the default keeps what each router did before the key existed: HAProxy always ran mode http
    protocol = _choice(file, "protocol", doc.get("protocol", "http" if router == "haproxy" else "tcp"), PROTOCOLS)
    command = doc.get("command", [])
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise SpecError(f"{file}: command: expected a list of strings")
    image = str(doc.get("image", ""))
    if driver == "process" and not command:
        raise SpecError(f"{file}: command: the process driver needs a command (argv list)")
    if driver != "process" and not image:
        raise SpecError(f"{file}: image: the {driver} driver needs an image such as registry/app:{{version}}")
    for part in [*command, image]:
        for ph in _PLACEHOLDER.findall(part):
            if ph not in PLACEHOLDERS:
                raise SpecError(f"{file}: unknown placeholder {{{ph}}} (known: {', '.join(sorted(PLACEHOLDERS))})")
    back = doc.get("back_ports", {})
    if not isinstance(back, dict) or set(back) != {"blue", "green"}:
        raise SpecError(f"{file}: back_ports: expected {{ blue = PORT, green = PORT }}")
    front = _port(file, "front_port", doc.get("front_port"))
    blue, green = _port(file, "back_ports.blue", back["blue"]), _port(file, "back_ports.green", back["green"])
    if len({front, blue, green}) != 3:
        raise SpecError(f"{file}: front_port and the two back_ports must all differ")
    selector, env = doc.get("selector", {}), doc.get("env", {})
    if not isinstance(selector, dict) or not isinstance(env, dict):
        raise SpecError(f"{file}: selector and env must be tables")
    try:
        check_labels("selector", {str(k): str(v) for k, v in selector.items()})
    except ValidationError as exc:
        raise SpecError(f"{file}: {exc}") from None
    metrics_path = str(doc.get("metrics_path", ""))
    if metrics_path and not metrics_path.startswith("/"):
        raise SpecError(f"{file}: metrics_path: expected a path such as /metrics, got {metrics_path!r}")
    engine_args, run_args = (_engine_flags(file, k, doc.get(k, []), driver) for k in ("engine_args", "run_args"))
    probe = doc.get("probe", {"kind": "tcp"})
    if not isinstance(probe, dict):
        raise SpecError(f"{file}: probe: expected a table")
    spec = ServiceDef(
        name=name,
        driver=driver,
        command=tuple(command),
        image=image,
        front_port=front,
        blue_port=blue,
        green_port=green,
        router=router,
        protocol=protocol,
        drain_timeout_ms=_ms(file, "drain_timeout", doc.get("drain_timeout", "30s")),
        keep_previous=bool(doc.get("keep_previous", True)),
        selector={str(k): str(v) for k, v in selector.items()},
        env={str(k): str(v) for k, v in env.items()},
        probe=dict(probe),
        healthy_deadline_ms=_ms(file, "healthy_deadline", doc.get("healthy_deadline", "2m")),
        haproxy_socket=str(doc.get("haproxy_socket", "")),
        metrics_path=metrics_path,
        engine_args=engine_args,
        run_args=run_args,
        source_toml=source,
    )
    try:
        spec.probe_spec()
    except ProbeError as exc:
        raise SpecError(f"{file}: {exc}") from None
    return spec


def to_proto(s: ServiceDef) -> common_pb2.ServiceSpec:
    return common_pb2.ServiceSpec(
        name=s.name,
        driver=s.driver,
        command=list(s.command),
        image=s.image,
        front_port=s.front_port,
        blue_port=s.blue_port,
        green_port=s.green_port,
        router=s.router,
        drain_timeout_ms=s.drain_timeout_ms,
        keep_previous=s.keep_previous,
        selector=s.selector,
        env=s.env,
        healthy_deadline_ms=s.healthy_deadline_ms,
        revision=s.revision,
        source_toml=s.source_toml,
    )


def from_proto(p: common_pb2.ServiceSpec) -> ServiceDef:
    """Re-validated from the TOML it was applied from (the file is the contract)."""
    if p.source_toml:
        s = parse_toml(p.source_toml, f"service {p.name}")
        return replace(s, revision=p.revision)
    raise SpecError(f"service {p.name}: the spec carries no source_toml")
