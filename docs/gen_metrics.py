"""Regenerate docs/metrics.md from the code: ``.venv/bin/python docs/gen_metrics.py``.

No series is listed here by hand. The generator runs the code that exports
them and reads what comes out:

* the agent's ``/metrics`` reading, from a real agent started in-process on
  loopback for a moment (host collector, the agent's own families, its
  service slots' families), stopped by its own SIGTERM handler;
* the probe series, from the recorder the probe runner and switches use;
* what the controller stores, by pushing that reading through its ingest,
  ticking its fleet (``up``), stepping an alerting rule (``ALERTS``,
  ``ALERTS_FOR_STATE``) and the SLO engine (``slo:*``);
* the controller's own endpoint, from its Prometheus registry.

What the code cannot tell is declared below and checked against what it
did: each series' labels (every sample seen must carry exactly those), the
help of the series that carry none, what each label means. A series the
declarations do not cover, a declaration that covers no series, or an
example rule that names an unknown series stops the generator.
tests/unit/test_docs.py fails when docs/metrics.md and this output differ.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.metrics_core import Metric
from switchman.agent import config as agent_config
from switchman.agent.collect import Family, HostCollector
from switchman.agent.collect.host import CPU_MODES
from switchman.agent.config import KEYS as AGENT_KEYS
from switchman.agent.daemon import AgentDaemon
from switchman.agent.probes.runner import record
from switchman.agent.telemetry import BLACKBOX_JOB, make_batches, target_labels
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.controller.alerts.engine import AlertingRule
from switchman.controller.alerts.rules import Rule, load_rule_file
from switchman.controller.config import KEYS as CONTROLLER_KEYS
from switchman.controller.fleet import Host
from switchman.controller.metrics import ControllerMetrics
from switchman.controller.promql import parse
from switchman.controller.promql.evaluator import selectors
from switchman.controller.promql.values import Sample
from switchman.controller.slo.engine import SLOState, WindowValue
from switchman.controller.slo.spec import parse_slo_file
from switchman.controller.wiring import Controller, ControllerRef, build, settings
from switchman.proto.daemon import SystemdNotifier
from switchman.proto.durations import format_duration_ms
from switchman.proto.probes import ProbeOutcome, parse_probe
from switchman.proto.settings import Key
from switchman.proto.v1 import common_pb2

PAGE = Path(__file__).resolve().parent / "metrics.md"
HOST_ID = "docs-host"
WINDOW = "<window>"

# The labels of each series, by name pattern (first match wins). A series no
# pattern matches has no labels; one without a sample to check must match.
LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"node_cpu_(guest_)?seconds_total", ("cpu", "mode")),
    (r"node_filesystem_\w+", ("device", "fstype", "mountpoint")),
    (r"node_disk_info", ("device", "major", "minor", "model", "path", "revision", "serial", "wwn")),
    (r"node_disk_filesystem_info", ("device", "type", "usage", "uuid", "version")),
    (r"node_disk_device_mapper_info", ("device", "lv_layer", "lv_name", "name", "uuid", "vg_name")),
    (r"node_network_info", ("address", "broadcast", "device", "duplex", "ifalias", "operstate")),
    (r"node_(disk|network)_\w+", ("device",)),
    (r"node_uname_info", ("domainname", "machine", "nodename", "release", "sysname", "version")),
    (
        r"node_os_info",
        (
            "build_id",
            "id",
            "id_like",
            "image_id",
            "image_version",
            "name",
            "pretty_name",
            "variant",
            "variant_id",
            "version",
            "version_codename",
            "version_id",
        ),
    ),
    (r"node_os_version", ("id", "id_like", "name")),
    (r"node_time_zone_offset_seconds", ("time_zone",)),
    (r"node_time_clocksource_\w+_info", ("clocksource", "device")),
    (r"node_\w+", ()),  # the rest: one series each (no sample where the host lacks the file)
    (r"switchman_node_cpu_utilisation_ratio", ()),  # no sample at an agent's first reading
    (r"switchman_\w+_build_info", ("version",)),
    (r"switchman_service_slot_\w+", ("service", "slot", "version")),
    (r"switchman_service_requests_total", ("code", "service", "slot", "version")),
    (r"switchman_service_(request_duration|response_time)_seconds", ("service", "slot", "version")),
    (r"probe_\w+", ("probe", "service", "slot")),
    (r"up", ("host", "instance", "job")),
    (r"ALERTS", ("alertname", "alertstate")),
    (r"ALERTS_FOR_STATE", ("alertname",)),
    (r"sloth_slo_info", ("sloth_id", "sloth_objective", "sloth_service", "sloth_slo")),
    (r"slo:.+", ("sloth_id", "sloth_service", "sloth_slo")),
    (r"switchman_hosts", ("state",)),
    (r"switchman_host_cert_expiry_timestamp_seconds", ("host",)),
    (r"switchman_notifications_total", ("notifier", "outcome")),
)

# What an agent adds to every series it pushes, and the controller's host label.
TARGET = ("host", "instance", "job")

# Series that carry further labels besides the declared ones, and which.
MORE_LABELS: tuple[tuple[str, str], ...] = (
    (r"ALERTS(_FOR_STATE)?", "and the alert's labels"),
    (r"slo:.+|sloth_slo_info", "and the SLO file's `labels`"),
)

# (type, help) of the series whose code has no help text.
DESCRIBED: dict[str, tuple[str, str]] = {
    "probe_success": ("gauge", "1 when the probe passed, 0 when it failed."),
    "probe_duration_seconds": ("gauge", "How long the probe took, in seconds."),
    "probe_http_status_code": ("gauge", "HTTP status an http probe got (no sample when no response came)."),
    "up": (
        "gauge",
        "1 while the host's agent heartbeats within `heartbeat_ttl`, else 0; written every `heartbeat_interval`.",
    ),
    "ALERTS": ("gauge", "1 for each pending or firing alert, at every evaluation of its rule."),
    "ALERTS_FOR_STATE": ("gauge", "When each pending or firing alert became active (`activeAt`), Unix seconds."),
    "slo:sli_error:ratio_rate<window>": ("gauge", "The SLI's error ratio over the window."),
    "slo:objective:ratio": ("gauge", "The objective as a ratio (99.9 is 0.999)."),
    "slo:error_budget:ratio": ("gauge", "1 - the objective."),
    "slo:time_period:days": ("gauge", "The SLO period (`slo_period`) in days."),
    "slo:current_burn_rate:ratio": ("gauge", "Error ratio over 5m divided by the error budget."),
    "slo:period_burn_rate:ratio": ("gauge", "Error ratio over the period divided by the error budget."),
    "slo:period_error_budget_remaining:ratio": ("gauge", "1 - the period burn rate: the share of the budget left."),
    "sloth_slo_info": ("gauge", "1 for each SLO."),
}

LABEL_MEANINGS: dict[str, str] = {
    "cpu": "CPU number, from 0.",
    "mode": "CPU mode: " + ", ".join(f"`{m}`" for m in CPU_MODES) + "; of guest time, `user` or `nice`.",
    "device": (
        "Block device, network interface, or the device a filesystem is mounted from; "
        "on `node_time_clocksource_*`, the clocksource device's number."
    ),
    "fstype": "Filesystem type (`ext4`, `xfs`, ...).",
    "code": (
        "HTTP status of the response the router passed: the code (`200`) from the builtin router, "
        'the class (`2xx`, `other`) from HAProxy; `code=~"5.."` matches both.'
    ),
    "mountpoint": "Where the filesystem is mounted.",
    "version": (
        "The daemon's version; on a slot's series, the service version the slot holds; on `node_uname_info`, "
        "the kernel build (`uname -v`); on `node_os_info`, os-release's `VERSION`; on "
        "`node_disk_filesystem_info`, the filesystem's version (udev's `ID_FS_VERSION`)."
    ),
    "major": "Block device major number.",
    "minor": "Block device minor number.",
    "model": "Disk model (udev's `ID_MODEL`; empty without udev's database).",
    "path": "Disk's hardware path (udev's `ID_PATH`).",
    "revision": "Disk firmware revision (udev's `ID_REVISION`).",
    "serial": "Disk serial number (udev's `ID_SERIAL_SHORT`).",
    "wwn": "Disk World Wide Name (udev's `ID_WWN`).",
    "type": "Filesystem type udev found on the disk (`ID_FS_TYPE`).",
    "usage": "What the disk's content is used for (udev's `ID_FS_USAGE`: `filesystem`, `raid`, ...).",
    "uuid": "Filesystem UUID (`ID_FS_UUID`); on `node_disk_device_mapper_info`, the mapping's `DM_UUID`.",
    "lv_layer": "LVM layer of a device-mapper device (udev's `DM_LV_LAYER`).",
    "lv_name": "LVM logical volume name (`DM_LV_NAME`).",
    "vg_name": "LVM volume group name (`DM_VG_NAME`).",
    "name": "Device-mapper name (`DM_NAME`); on `node_os_*`, os-release's `NAME`.",
    "address": "Interface hardware address (`/sys/class/net/<iface>/address`).",
    "broadcast": "Interface hardware broadcast address.",
    "duplex": "Interface duplex (`full`, `half`, `unknown`; empty when the driver gives none).",
    "ifalias": "Interface alias (`ip link set <iface> alias ...`).",
    "operstate": "Interface operational state (`up`, `down`, `unknown`, ...).",
    "domainname": "NIS domain name (`(none)` when unset).",
    "machine": "Hardware name (`uname -m`).",
    "nodename": "Host name (`uname -n`).",
    "release": "Kernel release (`uname -r`).",
    "sysname": "Kernel name (`Linux`).",
    "build_id": "os-release's `BUILD_ID`.",
    "id": "os-release's `ID` (`debian`, `ubuntu`, ...).",
    "id_like": "os-release's `ID_LIKE`.",
    "image_id": "os-release's `IMAGE_ID`.",
    "image_version": "os-release's `IMAGE_VERSION`.",
    "pretty_name": "os-release's `PRETTY_NAME`.",
    "variant": "os-release's `VARIANT`.",
    "variant_id": "os-release's `VARIANT_ID`.",
    "version_codename": "os-release's `VERSION_CODENAME`.",
    "version_id": "os-release's `VERSION_ID`.",
    "time_zone": "Abbreviation of the host's time zone (`UTC`, `CET`, ...).",
    "clocksource": "Kernel clocksource name (`tsc`, `kvm-clock`, ...).",
    "service": (
        "Service name (its spec's `name`). A `[[probe]]` of `agent.toml` has its `service` field, empty unless set."
    ),
    "slot": "`blue` or `green`; empty for a `[[probe]]` of `agent.toml`.",
    "probe": "Probe name: `name` of the probe table, `health` unless set (so a service's probe is `health`).",
    "host": "Host id (`host_id`) of the agent. The controller adds it to every series an agent pushes.",
    "instance": "The host id, as Prometheus' target label (on every series an agent pushes).",
    "job": "`node` (agent config `job`) on the built-in collector's series, `blackbox` on probe results.",
    "alertname": "The alerting rule's name.",
    "alertstate": "`pending` or `firing`.",
    "sloth_id": "`SERVICE-SLO`: the SLO file's `service` and the SLO's `name`.",
    "sloth_service": "The SLO file's `service`.",
    "sloth_slo": "The SLO's `name`.",
    "sloth_objective": "The objective in percent (`99.9`).",
    "state": "`up` or `down`.",
    "notifier": "`name` of a `[[notifiers]]` table.",
    "outcome": "`delivered`, `failed` (to be retried) or `dropped`.",
    "le": "Histogram bucket upper bound (on `_bucket`).",
}


class DriftError(RuntimeError):
    """The code and the declarations above disagree; the message says where."""


@dataclass
class Seen:
    """One family as the code produced it."""

    name: str
    kind: str
    help: str  # empty when the code gives none
    names: tuple[str, ...] = ()  # the sample names, when several (a histogram)
    labelsets: set[tuple[str, ...]] = field(default_factory=set)  # label names of each sample seen
    extra: str = ""  # appended to the help


@dataclass(frozen=True)
class Series:
    """One row of the reference."""

    name: str
    names: tuple[str, ...]
    kind: str
    help: str
    labels: tuple[str, ...]
    more: str = ""

    @property
    def all_labels(self) -> tuple[str, ...]:
        return (*self.labels, "le") if self.kind == "histogram" else self.labels


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Reference:
    sections: tuple[Section, ...]

    def all(self) -> list[Series]:
        return [s for sec in self.sections for s in sec.series]

    def find(self, name: str) -> Series | None:
        """The row documenting a concrete series name (``<window>`` matches a window)."""
        for s in self.all():
            for n in s.names:
                if n == name or (WINDOW in n and re.fullmatch(re.escape(n).replace(re.escape(WINDOW), r"\w+"), name)):
                    return s
        return None


# reading the code --------------------------------------------------------------


class _ReadyNotifier(SystemdNotifier):
    """sd_notify's READY=1, told to the generator instead of systemd."""

    def __init__(self) -> None:
        super().__init__(socket_path="")
        self.serving = asyncio.Event()

    def ready(self, status: str = "") -> None:
        self.serving.set()


def agent_config_in(work: Path) -> agent_config.AgentConfig:
    """An agent on loopback with no controller to reach, its state in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "agent.toml"
    path.write_text(
        f'controller = "127.0.0.1:1"\ninsecure = true\nlisten = "127.0.0.1:0"\nmetrics_listen = ""\n'
        f'data_dir = "{work}"\nhost_id = "{HOST_ID}"\nshutdown_grace = "100ms"\n'
    )
    return agent_config.load(str(path), {})


async def agent_reading(config: agent_config.AgentConfig) -> list[Family]:
    """What a real agent serves on ``/metrics``: started, read once, stopped
    the way SIGTERM stops it."""
    notifier = _ReadyNotifier()
    daemon = AgentDaemon(config, notifier=notifier)
    run = asyncio.create_task(daemon.run())
    serving = asyncio.create_task(notifier.serving.wait())
    await asyncio.wait({run, serving}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not serving.done():
        serving.cancel()
        if run.done():
            run.result()  # raises what stopped the agent
        run.cancel()
        raise TimeoutError("the agent did not start within 30s")
    try:
        return await daemon.read_now()
    finally:
        signal.raise_signal(signal.SIGTERM)  # the handler the agent installed: its own clean stop
        await asyncio.wait_for(run, 30)


def probe_series() -> list[common_pb2.Series]:
    """What the probe recorder writes for one run of an http probe."""
    buffer = TelemetryBuffer(target=target_labels(HOST_ID, BLACKBOX_JOB))
    spec = parse_probe({"kind": "http", "url": "http://127.0.0.1:1/health", "service": "hello"})
    record(buffer, spec, "blue", ProbeOutcome(True, 0.004, http_status=200))
    series, _ = buffer.drain()
    return series


def seen_families(families: Iterable[Family]) -> list[Seen]:
    return [
        Seen(f.name, f.kind, f.help, labelsets={tuple(sorted(k for k, _ in lbl)) for lbl, _ in f.samples})
        for f in families
    ]


def seen_pushed(series: Iterable[common_pb2.Series]) -> list[Seen]:
    """Series pushed without a family (the probes'): no help in the code."""
    out: dict[str, Seen] = {}
    for s in series:
        kind, text = DESCRIBED.get(s.name, ("", ""))
        out.setdefault(s.name, Seen(s.name, kind, text)).labelsets.add(tuple(sorted(set(s.labels) - set(TARGET))))
    return list(out.values())


def seen_samples(samples: Iterable[Sample]) -> list[Seen]:
    """Series the controller computes; windowed SLO names fold into one row."""
    out: dict[str, Seen] = {}
    windows: list[str] = []
    for s in samples:
        name = s.labels["__name__"]
        m = re.fullmatch(r"(slo:sli_error:ratio_rate)(\w+)", name)
        if m:
            windows.append(m.group(2))
            name = m.group(1) + WINDOW
        kind, text = DESCRIBED.get(name, ("", ""))
        out.setdefault(name, Seen(name, kind, text)).labelsets.add(
            tuple(sorted(k for k in s.labels if k != "__name__"))
        )
    if windows:
        out["slo:sli_error:ratio_rate" + WINDOW].extra = (
            "Windows: "
            + ", ".join(f"`{w}`" for w in windows[:-1])
            + f" and the period (`{windows[-1]}`, `slo_period`)."
        )
    return list(out.values())


def seen_registry(metrics: Iterable[Metric]) -> list[Seen]:
    out = []
    for m in metrics:
        names = tuple(dict.fromkeys(s.name for s in m.samples))
        name = m.name + "_total" if m.type == "counter" else m.name
        labelsets = {tuple(sorted(k for k in s.labels if k != "le")) for s in m.samples}
        out.append(Seen(name, m.type, m.documentation, names if m.type == "histogram" else (), labelsets))
    return out


def computed_samples(core: Controller) -> list[Sample]:
    """One step of an alerting rule and one SLO evaluation, as the controller writes them."""
    now = core.clock_ms()
    rule = Rule("HostDown", "alerting", parse("up == 0"), "up == 0", labels={"severity": "page"})
    out = AlertingRule(rule).evaluate([Sample({"__name__": "up", "host": HOST_ID}, now, 0.0)], now)
    [slo] = parse_slo_file(
        "version: prometheus/v1\nservice: hello\nslos:\n  - {name: health, objective: 99, sli: {probe: {service: hello}}}\n",
        "docs.yml",
    )
    engine = core.slo
    state = SLOState(slo, {w: WindowValue(w, 0.001, 100.0) for w, _ in engine.windows()})
    return out + engine.series(state)


async def controller_reading(
    work: Path, agent: list[Family], probes: list[common_pb2.Series]
) -> tuple[list[Seen], list[Seen], dict[str, set[tuple[str, ...]]]]:
    """(what the controller computes and stores, its endpoint's families,
    the label names of each stored series an agent pushed)."""
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    core = await build(settings(work))
    try:
        now = core.clock_ms()
        host = Host(HOST_ID, HOST_ID, "127.0.0.1:1", {}, "", [], now, now, cert_not_after_ms=now + 86_400_000)
        await core.fleet.register(host)
        await core.fleet.tick()
        batches = make_batches(agent, [], now, 1_000_000, probes, target_labels(HOST_ID, "node"))
        for seq, batch in enumerate(batches, 1):
            batch.sequence = seq
        await core.ingest.push(HOST_ID, "docs", batches)
        stored: dict[str, set[tuple[str, ...]]] = {}
        for info in core.storage.index.all():
            stored.setdefault(info.name, set()).add(tuple(sorted(k for k, _ in info.labels)))
        up = [Sample({"__name__": "up", **dict(i.labels)}, now, 1.0) for i in core.storage.index.by_name("up")]
        computed = seen_samples(up + computed_samples(core))
        endpoint = seen_registry(ControllerMetrics(ControllerRef(core)).registry.collect())
    finally:
        await core.close()
    return computed, endpoint, stored


# checking against the declarations -----------------------------------------------


def _match(table: Sequence[tuple[str, object]], name: str) -> int | None:
    return next((i for i, (pattern, _) in enumerate(table) if re.fullmatch(pattern, name)), None)


def declare(seen: Iterable[Seen], errors: list[str], used: set[int]) -> tuple[Series, ...]:
    """The rows for what the code produced, with the declared labels; appends
    each disagreement to ``errors`` and the index of each LABELS entry used to ``used``."""
    rows = []
    for s in seen:
        i = _match(LABELS, s.name)
        labels = LABELS[i][1] if i is not None else ()
        if i is not None:
            used.add(i)
        j = _match(MORE_LABELS, s.name)
        more = MORE_LABELS[j][1] if j is not None else ""
        if not s.labelsets and i is None:
            errors.append(f"{s.name}: no sample to read its labels from; declare them in LABELS")
        for got in s.labelsets:
            if (set(labels) - set(got)) if more else (set(got) != set(labels)):
                errors.append(f"{s.name}: a sample has labels {list(got)}, LABELS says {list(labels)}")
        if not s.help or not s.kind:
            errors.append(f"{s.name}: the code gives no help or type; describe it in DESCRIBED")
        text = " ".join(t for t in (s.help.strip(), s.extra) if t)
        rows.append(Series(s.name, s.names or (s.name,), s.kind, text, labels, more))
    return tuple(rows)


def check_pushed(rows: Iterable[Series], stored: dict[str, set[tuple[str, ...]]], errors: list[str]) -> None:
    """Every series an agent pushed is stored with its labels, ``host`` and the target labels."""
    for s in rows:
        for got in stored.get(s.name, set()):
            if set(got) != {*s.labels, *TARGET}:
                errors.append(f"{s.name}: stored with labels {list(got)}, expected {[*s.labels, *TARGET]}")


def check_examples(ref: Reference, errors: list[str], work: Path) -> None:
    path = work / "example-rules.yml"
    path.write_text(EXAMPLE_RULES)
    result = load_rule_file(path)
    errors += [f"the example rules: {e}" for e in result.errors]
    recorded = {r.name for g in result.groups for r in g.rules if r.kind == "recording"}
    for g in result.groups:
        for r in g.rules:
            for sel, _ in selectors(r.expr):
                for m in sel.matchers:
                    if m.name == "__name__" and m.value not in recorded and ref.find(m.value) is None:
                        errors.append(f"the example rule {r.name} reads {m.value}, which is not documented")


def check_declarations(ref: Reference, used: set[int]) -> list[str]:
    """Declarations that no longer describe anything, labels nothing explains."""
    errors = [f"LABELS: {p!r} matches no series" for i, (p, _) in enumerate(LABELS) if i not in used]
    names = {s.name for s in ref.all()}
    errors += [f"DESCRIBED: {n!r} is no series" for n in DESCRIBED if n not in names]
    labels = {lbl for s in ref.all() for lbl in s.all_labels}
    errors += [f"LABEL_MEANINGS: {lbl!r} has no meaning" for lbl in sorted(labels - set(LABEL_MEANINGS))]
    errors += [f"LABEL_MEANINGS: {lbl!r} labels no series" for lbl in sorted(set(LABEL_MEANINGS) - labels)]
    return errors


def _is_slot(s: Seen) -> bool:
    return s.name.startswith("switchman_service_")


async def reference(work: Path) -> Reference:
    """Run the code and build the reference.

    :raises DriftError: naming every disagreement between the code and the declarations.
    """
    host_names = {f.name for f in HostCollector().collect()}
    reading = await agent_reading(await asyncio.to_thread(agent_config_in, work / "agent"))
    probes = probe_series()
    computed, endpoint, stored = await controller_reading(work / "controller", reading, probes)
    agent = seen_families(reading)
    groups = (
        [s for s in agent if s.name in host_names],
        [s for s in agent if s.name not in host_names and not _is_slot(s)],
        [s for s in agent if _is_slot(s)],
        seen_pushed(probes),
        computed,
        endpoint,
    )
    errors: list[str] = []
    used: set[int] = set()
    ref = Reference(tuple(Section(t, i, declare(g, errors, used)) for (t, i), g in zip(SECTIONS, groups, strict=True)))
    for pushed in ref.sections[:4]:
        check_pushed(pushed.series, stored, errors)
    errors += check_declarations(ref, used)
    check_examples(ref, errors, work)
    if errors:
        raise DriftError("docs/metrics.md cannot be generated:\n  " + "\n  ".join(errors))
    return ref


# the page ------------------------------------------------------------------------


def default(keys: tuple[Key, ...], name: str) -> str:
    key = next(k for k in keys if k.name == name)
    if key.kind == "duration" and isinstance(key.default, float):
        return format_duration_ms(int(key.default * 1000))
    return str(key.default)


AGENT_METRICS = default(AGENT_KEYS, "metrics_listen")
CONTROLLER_METRICS = default(CONTROLLER_KEYS, "metrics_listen")
INTERVAL = default(AGENT_KEYS, "interval")

# (title, introduction) of each section, in the order reference() builds them
SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "Host: `node_*`",
        "Exported by the agent (`/metrics`, and pushed). Read at every collection from `/proc` and `/sys` "
        "(CPU times and the process count with psutil, the clock with `adjtimex`), under node_exporter 1.5's "
        "names, types and labels and with Debian's node_exporter defaults for which filesystems and disks to "
        "leave out, so the node exporter mixin, node dashboards and rules written for node_exporter work "
        "unchanged. Families from a file the host lacks (`/proc/pressure`, conntrack, udev's database) have "
        "no series there; `/proc/meminfo`, `/proc/vmstat`, `/proc/net/netstat` and `sockstat` fields are "
        "those of the host's kernel (this page lists those of the host it was generated on).",
    ),
    (
        "The agent itself",
        "Exported by the agent (`/metrics`, and pushed): its spool, its link to the controller, its own process.",
    ),
    (
        "Service slots: `switchman_service_*`",
        "Exported by the agent (`/metrics`, and pushed): one series per slot of each service that runs or "
        'holds a version ([services.md](services.md)); the request series for `protocol = "http"` '
        "services only, counted by their router (HAProxy gives response counts per status class and "
        "`response_time`, the builtin router exact codes and the duration histogram).",
    ),
    (
        "Probes: `probe_*`",
        "Pushed by the agent only (not on its `/metrics`): one sample per probe run, at the time of the run. "
        "A service's `[probe]` runs against each running slot (the active one and the warm previous one), "
        "and during a switch against the starting slot until it passes, so a failing `probe_success` of a "
        "slot that gets no traffic is normal; `[[probe]]` tables of `agent.toml` run on their own.",
    ),
    (
        "Computed by the controller",
        "Written into the controller's store next to what agents push, so rules, SLOs, rollout analysis, "
        "drills and `switchman query` read them like any other series. Recording rules add their own "
        "`record:` names.",
    ),
    (
        "The controller's own endpoint",
        f"Exported by the controller on `metrics_listen` (default `{CONTROLLER_METRICS}`) for your "
        "Prometheus; these are not in the controller's store, so its rules cannot read them.",
    ),
)

HEAD = f"""# Metrics reference

Generated from the code by `docs/gen_metrics.py` (do not edit by hand;
`tests/unit/test_docs.py` fails when the page and the code differ).

Every series Switchman exports, by who exports it:

* **Agent `/metrics`** (`metrics_listen`, default `{AGENT_METRICS}`): the
  host, the agent itself and its service slots, read fresh at each scrape,
  for a local Prometheus.
* **Pushed to the controller**: the same series, every `interval` ({INTERVAL}),
  plus the probe results, with the target labels Prometheus would give them:
  `job` (`node`, agent config `job`; `blackbox` on probe results) and
  `instance` (the host id). The controller stores them with one more label,
  `host` (the agent's host id; it replaces a `host` label the agent sent).
  Rule files ([alerting.md](alerting.md)), SLOs ([slos.md](slos.md)),
  rollout analysis ([rollouts.md](rollouts.md)), drills ([chaos.md](chaos.md))
  and `switchman query` ([query-language.md](query-language.md)) read the
  controller's store.
* **Controller `/metrics`** (`metrics_listen`, default `{CONTROLLER_METRICS}`):
  the controller's own health. The controller also stores what it serves
  there every 15 seconds, with `job="switchman-controller"` and `instance`
  its `listen` address, so dashboards over its own API see it.
"""

EXAMPLE_RULES = """groups:
  - name: switchman-services
    interval: 30s
    rules:
      # the slot that gets the traffic fails its probe (the other slot's
      # probe may fail on purpose: it is starting, draining or stopped)
      - alert: ServiceProbeFailing
        expr: probe_success{probe="health"} == 0 and on(host, service, slot) switchman_service_slot_active == 1
        for: 1m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.service }} fails its health probe on {{ $labels.host }} ({{ $labels.slot }} slot)"
      # the slot that gets the traffic has no running process
      - alert: ServiceSlotDown
        expr: switchman_service_slot_up == 0 and on(host, service, slot) switchman_service_slot_active == 1
        for: 30s
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.service }} {{ $labels.version }} is not running on {{ $labels.host }}"
      - alert: ServiceSlotRestarting
        expr: increase(switchman_service_slot_restarts_total[15m]) > 3
        labels: {severity: ticket}
      # hosts serving each service: the active slot runs
      - record: service:serving_hosts:count
        expr: count by (service) (switchman_service_slot_up == 1 and on(host, service, slot) switchman_service_slot_active == 1)
  - name: switchman-hosts
    interval: 30s
    rules:
      - alert: HostDown
        expr: up == 0
        for: 1m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.host }} has not heartbeated for heartbeat_ttl"
      - alert: FilesystemAlmostFull
        expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1
        for: 10m
        labels: {severity: ticket}
      - alert: AgentSpoolDropping
        expr: increase(switchman_agent_spool_dropped_total[10m]) > 0
        labels: {severity: ticket}
"""

RULES = f"""
## Writing rules against Switchman's metrics

Rule files are evaluated by the controller over its store: pushed series
carry `host`, probe results carry `probe`, `service` and `slot`, a slot's
series carry `service`, `slot` and `version`. Agents push every `interval`
({INTERVAL} by default), so give range selectors at least a few intervals
(`[1m]`, not `[10s]`). Check a file with `switchman rules check FILE`, test
it with `switchman rules test FILE` (promtool's format), and load it as
[configuration.md](configuration.md#adding-a-rule-file-to-a-running-controller)
says.

```yaml
{EXAMPLE_RULES}```

* A service's probe is `probe="health"` unless its `[probe]` sets a `name`.
  Both slots are probed, so join on the active slot
  (`and on(host, service, slot) switchman_service_slot_active == 1`) rather
  than alert on every failing `probe_success`.
* `switchman_service_slot_up` and `switchman_service_slot_active` have the
  same labels, `version` included, so they match each other one to one.
* `up` is written by the controller for every registered host, also when
  the host has stopped pushing; the host's own series just stop.
* An alert with a `service` label feeds rollout analysis, and with a
  severity in `incident_severities` opens an incident
  ([incidents.md](incidents.md)).
"""


def cell(text: str) -> str:
    """Markdown table cell text: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


def _row(s: Series) -> str:
    name = ", ".join(f"`{n}`" for n in s.names)
    labels = ", ".join(f"`{lbl}`" for lbl in s.all_labels)
    labels = " ".join(t for t in (labels or "\N{EN DASH}", s.more) if t)
    return f"| {name} | {s.kind} | {labels} | {cell(s.help)} |"


def render(ref: Reference) -> str:
    parts = [HEAD]
    for sec in ref.sections:
        intro = textwrap.fill(sec.intro, 76, break_long_words=False, break_on_hyphens=False)
        parts.append(f"\n## {sec.title}\n\n{intro}\n\n| series | type | labels | help |\n|---|---|---|---|\n")
        parts.append("\n".join(_row(s) for s in sec.series) + "\n")
    used = sorted({lbl for s in ref.all() for lbl in s.all_labels})
    parts.append("\n## Labels\n\n| label | meaning |\n|---|---|\n")
    parts.append("\n".join(f"| `{lbl}` | {LABEL_MEANINGS[lbl]} |" for lbl in used) + "\n")
    parts.append(RULES)
    return "".join(parts)


async def generate() -> str:
    with tempfile.TemporaryDirectory(prefix="gen-metrics-") as work:
        return render(await reference(Path(work)))


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the agent it runs warns that no controller answers
    PAGE.write_text(asyncio.run(generate()))


if __name__ == "__main__":
    main()
