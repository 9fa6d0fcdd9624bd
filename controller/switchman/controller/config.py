"""Controller configuration (SPEC 4, 11): TOML keys, each overridable by a flag."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from switchman.controller.notify.inhibit import parse_inhibit_rules
from switchman.controller.notify.registry import build_notifiers
from switchman.controller.remote_write.config import parse_endpoints
from switchman.proto.channel import split_host_port
from switchman.proto.settings import ConfigError, Key, build, check_common, check_writable_dir, load_toml, make_config

DEFAULT_PATH = "/etc/switchman/controller.toml"

KEYS = (
    Key("listen", "address", "127.0.0.1:7000", "gRPC listen address (Controller and Ops services)"),
    Key(
        "ops_listen",
        "optional_address",
        "",
        "extra address for the CLI (Ops only, TLS without client certificates); default with TLS: listen's port + 1",
    ),
    Key("metrics_listen", "optional_address", "127.0.0.1:9110", "Prometheus endpoint; empty to disable"),
    Key(
        "http_listen",
        "optional_address",
        "127.0.0.1:7080",
        "HTTP server: Prometheus' HTTP API, service discovery (TLS when tls_dir is set); empty to disable",
    ),
    Key("data_dir", "str", "/var/lib/switchman-controller", "state directory (SQLite database, admin.token)"),
    Key("rule_files", "strlist", [], "alerting and recording rule files (globs)"),
    Key("slo_files", "strlist", [], "SLO files (globs)"),
    Key("drill_files", "strlist", [], "drill files (globs)"),
    Key("slo_period", "str", "30d", "SLO period: 28d or 30d (the window attainment and budget are computed over)"),
    Key("slo_interval", "duration", 30.0, "how often SLO error ratios are computed"),
    Key("incident_severities", "strlist", ["page", "critical"], "alert severities that open incidents"),
    Key(
        "incident_priorities",
        "labels",
        {"critical": "P1", "page": "P2", "warning": "P3", "ticket": "P3", "info": "P4"},
        "severity -> priority (P1..P4); other severities are P3",
    ),
    Key("escalation_interval", "duration", 900.0, "re-notify an unacknowledged incident this often"),
    Key("auto_resolve_after", "duration", 300.0, "resolve an incident this long after its last alert resolved"),
    Key("notifiers", "tables", [], "[[notifiers]] tables: webhook, alertmanager or pagerduty (docs/alerting.md)"),
    Key("inhibit_rules", "tables", [], "[[inhibit_rules]] tables: source_matchers, target_matchers, equal"),
    Key(
        "remote_write",
        "tables",
        [],
        "[[remote_write]] tables: Prometheus remote-write receivers of every stored sample (docs/remote-write.md)",
    ),
    Key("raw_retention", "duration", 48 * 3600.0, "how long raw samples are kept"),
    Key("rollup_1m_retention", "duration", 30 * 86400.0, "how long 1-minute rollups are kept"),
    Key("rollup_1h_retention", "duration", 400 * 86400.0, "how long 1-hour rollups are kept"),
    Key("heartbeat_interval", "duration", 5.0, "how often agents heartbeat"),
    Key("heartbeat_ttl", "duration", 30.0, "a host whose last heartbeat is older is down"),
    Key("max_message_bytes", "size", 4 * 1024 * 1024, "largest gRPC message accepted"),
    Key("tls_dir", "str", "", "directory with ca.pem, cert.pem, key.pem"),
    Key("insecure", "bool", False, "plaintext gRPC (loopback only)"),
    Key("shutdown_grace", "duration", 10.0, "grace period for in-flight calls on SIGTERM"),
    Key("log_level", "str", "info", "debug | info | warning | error"),
    Key("log_format", "str", "text", "text | json"),
)


@dataclass(frozen=True)
class ControllerConfig:
    listen: str
    ops_listen: str
    metrics_listen: str
    http_listen: str
    data_dir: Path
    rule_files: list[str]
    slo_files: list[str]
    drill_files: list[str]
    slo_period: str
    slo_interval: float
    incident_severities: list[str]
    incident_priorities: dict[str, str]
    escalation_interval: float
    auto_resolve_after: float
    raw_retention: float
    rollup_1m_retention: float
    rollup_1h_retention: float
    heartbeat_interval: float
    heartbeat_ttl: float
    max_message_bytes: int
    tls_dir: str
    insecure: bool
    shutdown_grace: float
    log_level: str
    log_format: str
    notifiers: list[dict[str, object]] = field(default_factory=list)
    inhibit_rules: list[dict[str, object]] = field(default_factory=list)
    remote_write: list[dict[str, object]] = field(default_factory=list)
    source: str = ""


def load(path: str | None, flags: dict[str, object], *, check_dir: bool = True) -> ControllerConfig:
    """:raises ConfigError: one clear line naming the file or flag and the key."""
    file_values: dict[str, object] = {}
    read = path is not None or Path(DEFAULT_PATH).exists()
    source = (path or DEFAULT_PATH) if read else "the command line (no config file)"
    if read:
        file_values = load_toml(path or DEFAULT_PATH)
    v = build(KEYS, file_values, flags, source)
    for key in ("heartbeat_interval", "heartbeat_ttl", "raw_retention"):
        if v.get_float(key) <= 0:
            raise ConfigError(f"{source}: key {key!r}: must be greater than 0")
    if v.get_float("heartbeat_ttl") < v.get_float("heartbeat_interval"):
        raise ConfigError(f"{source}: key 'heartbeat_ttl': must be at least heartbeat_interval")
    if str(v["slo_period"]) not in ("28d", "30d"):
        raise ConfigError(f"{source}: key 'slo_period': {v['slo_period']!r} is not 28d or 30d")
    if v.get_float("slo_interval") <= 0:
        raise ConfigError(f"{source}: key 'slo_interval': must be greater than 0")
    bad = {k: p for k, p in dict(v.get_labels("incident_priorities")).items() if p not in ("P1", "P2", "P3", "P4")}
    if bad:
        raise ConfigError(f"{source}: key 'incident_priorities': {sorted(bad.items())[0]} is not P1..P4")
    ops_listen = v.get_str("ops_listen")
    if not ops_listen and not v.get_bool("insecure"):
        host, port = split_host_port(v.get_str("listen"))
        ops_listen = f"{host}:{port + 1}" if port else f"{host}:0"
    check_common(v, source, [v.get_str("listen"), ops_listen, v.get_str("metrics_listen"), v.get_str("http_listen")])
    try:
        build_notifiers(v.get_tables("notifiers"), source)
        parse_inhibit_rules(v.get_tables("inhibit_rules"), source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    parse_endpoints(v.get_tables("remote_write"), source)
    data_dir = Path(str(v["data_dir"]))
    if check_dir:
        check_writable_dir(data_dir, source)
    return make_config(ControllerConfig, KEYS, v, ops_listen=ops_listen, data_dir=data_dir, source=source)
