"""Agent configuration (SPEC 3, 11): TOML file keys, each overridable by a flag."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from switchman.agent.scrape.targets import parse_scrapes
from switchman.proto.channel import split_host_port
from switchman.proto.settings import (
    ConfigError,
    Key,
    build,
    check_common,
    check_resolvable,
    check_writable_dir,
    load_toml,
    make_config,
)
from switchman.proto.validate import ValidationError, check_identifier

DEFAULT_PATH = "/etc/switchman/agent.toml"

KEYS = (
    Key("controller", "address", None, "controller address HOST:PORT"),
    Key("listen", "address", "127.0.0.1:7100", "gRPC listen address for the Agent service"),
    Key("advertise", "optional_address", "", "address the controller dials (default: listen)"),
    Key("service_address", "str", "", "address services' front and back ports bind on (default: host of listen)"),
    Key("metrics_listen", "optional_address", "127.0.0.1:9109", "Prometheus endpoint; empty to disable"),
    Key("data_dir", "str", "/var/lib/switchman-agent", "state directory (spool, service state, fault ledger)"),
    Key("host_id", "str", "", "host id (default: the hostname)"),
    Key("labels", "labels", {}, "host labels"),
    Key("job", "str", "node", "the job label of the built-in collector's series (probe results: blackbox)"),
    Key("interval", "duration", 10.0, "collection and push interval"),
    Key("batch_max_samples", "int", 5000, "push a batch when this many samples are waiting"),
    Key("spool_max_bytes", "size", 256 * 1024 * 1024, "spool bound; oldest raw samples are dropped first"),
    Key("push_timeout", "duration", 10.0, "deadline of one PushTelemetry call"),
    Key("backoff_cap", "duration", 30.0, "reconnect backoff cap"),
    Key("tls_dir", "str", "", "directory with ca.pem, cert.pem, key.pem"),
    Key("insecure", "bool", False, "plaintext gRPC (loopback only)"),
    Key("max_fault_duration", "duration", 900.0, "cap on any fault's duration"),
    Key("shutdown_grace", "duration", 10.0, "grace period for in-flight work on SIGTERM"),
    Key("log_level", "str", "info", "debug | info | warning | error"),
    Key("log_format", "str", "text", "text | json"),
    Key("probe", "tables", [], "[[probe]] tables (health probes)", attr="probes"),
    Key("scrape", "tables", [], "[[scrape]] tables: local Prometheus endpoints to scrape", attr="scrapes"),
)


@dataclass(frozen=True)
class AgentConfig:
    controller: str
    listen: str
    advertise: str
    service_address: str
    metrics_listen: str
    data_dir: Path
    host_id: str
    labels: dict[str, str]
    job: str
    interval: float
    batch_max_samples: int
    spool_max_bytes: int
    push_timeout: float
    backoff_cap: float
    tls_dir: str
    insecure: bool
    max_fault_duration: float
    shutdown_grace: float
    log_level: str
    log_format: str
    probes: list[dict[str, object]] = field(default_factory=list)
    scrapes: list[dict[str, object]] = field(default_factory=list)
    source: str = ""


def load(path: str | None, flags: dict[str, object]) -> AgentConfig:
    """Build the config from the file at ``path`` (optional when it is the
    default and missing) and ``flags``.

    :raises ConfigError: one clear line naming the file or flag and the key.
    """
    file_values: dict[str, object] = {}
    read = path is not None or Path(DEFAULT_PATH).exists()
    source = (path or DEFAULT_PATH) if read else "the command line (no config file)"
    if read:
        file_values = load_toml(path or DEFAULT_PATH)
    v = build(KEYS, file_values, flags, source)
    if not v["controller"]:
        raise ConfigError(f"{source}: key 'controller' is required (or --controller HOST:PORT)")
    check_resolvable(source, "controller", v.get_str("controller"))
    listen = v.get_str("listen")
    host_id = str(v["host_id"] or socket.gethostname())
    try:
        check_identifier("host_id", host_id)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if not v.get_str("job"):
        raise ConfigError(f"{source}: key 'job': must not be empty (the default is node)")
    interval = v.get_float("interval")
    if not 0.05 <= interval <= 3600:
        raise ConfigError(f"{source}: key 'interval': must be between 50ms and 1h (got {interval}s)")
    check_common(v, source, [listen, v.get_str("controller"), v.get_str("advertise"), v.get_str("metrics_listen")])
    parse_scrapes(v.get_tables("scrape"), source, interval)  # refused here, with the table and the key
    data_dir = Path(str(v["data_dir"]))
    check_writable_dir(data_dir, source)
    return make_config(
        AgentConfig,
        KEYS,
        v,
        advertise=v.get_str("advertise") or listen,
        service_address=v.get_str("service_address") or split_host_port(listen)[0],
        data_dir=data_dir,
        host_id=host_id,
        source=source,
    )
