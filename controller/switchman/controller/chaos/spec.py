"""Drill files (SPEC 4.7), YAML:

.. code-block:: yaml

    title: latency on one web host
    description: the page alert should fire and the service recover
    targets: {selector: {role: web}, mode: one}      # one | all | count:N | percent:N
    steady_state:
      - name: hello answers
        expr: min(probe_success{service="hello"}) == 1
    faults:
      - {kind: latency, duration: 30s, service: hello, params: {latency: 300ms}}
    abort_when:
      - alert: HostDown
      - expr: sum(probe_success{service="hello"}) < 1
    schedule: "0 3 * * 1"      # cron, run by the controller
    recovery_timeout: 5m
    dry_run: false

Every problem is reported as ``FILE:LINE:COL: message``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from apscheduler.triggers.cron import CronTrigger
from switchman.controller.promql import PromQLError, parse
from switchman.controller.yamlpos import mapping, pos, scalar
from switchman.proto.durations import DurationError, parse_duration_ms

TOP_KEYS = {
    "title",
    "description",
    "targets",
    "steady_state",
    "faults",
    "abort_when",
    "schedule",
    "recovery_timeout",
    "dry_run",
}
FAULT_KINDS = {
    "cpu",
    "memory",
    "latency",
    "errors",
    "blackhole",
    "bandwidth",
    "kill",
    "pause",
    "disk_fill",
    "partition",
}
MODE = re.compile(r"one|all|count:([1-9]\d{0,5})|percent:([1-9]\d?|100)")


class DrillSpecError(ValueError):
    """Every problem of a drill file, one per line."""


@dataclass(frozen=True)
class Condition:
    name: str
    expr: str = ""
    alert: str = ""


@dataclass(frozen=True)
class FaultStep:
    kind: str
    duration_ms: int
    service: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DrillSpec:
    title: str
    description: str
    selector: dict[str, str]
    mode: str
    steady_state: tuple[Condition, ...]
    faults: tuple[FaultStep, ...]
    abort_when: tuple[Condition, ...]
    schedule: str = ""
    recovery_timeout_ms: int = 300_000
    dry_run: bool = False
    file: str = ""
    source: str = ""

    @property
    def services(self) -> set[str]:
        return {f.service for f in self.faults if f.service}


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[str] = []

    def err(self, node: yaml.Node, message: str) -> None:
        self.errors.append(f"{pos(self.file, node)}: {message}")

    def duration(self, node: yaml.Node, what: str) -> int:
        try:
            ms = parse_duration_ms(scalar(node))
        except DurationError as exc:
            self.err(node, f"{what}: {exc}")
            return 0
        if ms <= 0:
            self.err(node, f"{what}: must be greater than 0")
        return ms

    def condition(self, node: yaml.Node, where: str, need_name: bool) -> Condition | None:
        m = mapping(node)
        if not m:
            self.err(node, f"{where}: expected a mapping with expr (or alert)")
            return None
        unknown = set(m) - {"name", "expr", "alert"}
        if unknown:
            self.err(
                m[sorted(unknown)[0]][0], f"{where}: unknown key {sorted(unknown)[0]!r} (known: alert, expr, name)"
            )
        expr, alert = scalar(m["expr"][1]) if "expr" in m else "", scalar(m["alert"][1]) if "alert" in m else ""
        if bool(expr) == bool(alert):
            self.err(node, f"{where}: give exactly one of expr or alert")
            return None
        if expr:
            try:
                parse(expr)
            except PromQLError as exc:
                self.err(m["expr"][1], f"{where}: expr: {exc}")
                return None
        name = scalar(m["name"][1]) if "name" in m else ""
        if need_name and not name:
            self.err(node, f"{where}: needs a name")
        return Condition(name or alert or expr, expr, alert)

    def fault(self, node: yaml.Node, where: str) -> FaultStep | None:
        m = mapping(node)
        if not m:
            self.err(node, f"{where}: expected a mapping with kind and duration")
            return None
        unknown = set(m) - {"kind", "duration", "service", "params"}
        if unknown:
            self.err(
                m[sorted(unknown)[0]][0],
                f"{where}: unknown key {sorted(unknown)[0]!r} (known: duration, kind, params, service)",
            )
        kind = scalar(m["kind"][1]) if "kind" in m else ""
        if kind not in FAULT_KINDS:
            self.err(
                m["kind"][1] if "kind" in m else node,
                f"{where}: kind: {kind!r} is not one of {', '.join(sorted(FAULT_KINDS))}",
            )
            return None
        if "duration" not in m:
            self.err(node, f"{where}: every fault needs a duration")
            return None
        duration = self.duration(m["duration"][1], f"{where}: duration")
        params = {}
        if "params" in m:
            pm = mapping(m["params"][1])
            if not pm and not (isinstance(m["params"][1], yaml.MappingNode)):
                self.err(m["params"][1], f"{where}: params: expected a mapping")
            params = {k: scalar(v) for k, (_, v) in pm.items()}
        return FaultStep(kind, duration, scalar(m["service"][1]) if "service" in m else "", params)

    def items(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.err(node, f"{what}: expected a list")
            return []
        return list(node.value)


def parse_drill(text: str, file: str = "drill.yml") -> DrillSpec:
    """:raises DrillSpecError: with every problem as FILE:LINE:COL: message."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise DrillSpecError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    c = _Checker(file)
    top = mapping(root) if root is not None else {}
    if not top:
        raise DrillSpecError(f"{file}: expected a mapping with title, targets, steady_state and faults")
    assert root is not None
    for key in sorted(set(top) - TOP_KEYS):
        c.err(top[key][0], f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    title = scalar(top["title"][1]) if "title" in top else ""
    if not title:
        c.err(root, "title: required")
    selector: dict[str, str] = {}
    mode = "one"
    if "targets" in top:
        tm = mapping(top["targets"][1])
        if "selector" in tm:
            selector = {k: scalar(v) for k, (_, v) in mapping(tm["selector"][1]).items()}
        if "mode" in tm:
            mode = scalar(tm["mode"][1])
            if not MODE.fullmatch(mode):
                c.err(tm["mode"][1], f"targets.mode: {mode!r} is not one, all, count:N or percent:N")
    else:
        c.err(root, "targets: required (selector and mode)")
    steady = _conditions(c, top, "steady_state", need_name=True)
    faults: list[FaultStep] = []
    for i, n in enumerate(c.items(top["faults"][1] if "faults" in top else None, "faults")):
        f = c.fault(n, f"faults[{i}]")
        if f is not None:
            faults.append(f)
    if "faults" not in top:
        c.err(root, "faults: required")
    elif not faults and not c.errors:
        c.err(top["faults"][1], "faults: at least one fault")
    aborts = _conditions(c, top, "abort_when", need_name=False)
    schedule = scalar(top["schedule"][1]) if "schedule" in top else ""
    if schedule:
        try:
            CronTrigger.from_crontab(schedule)
        except ValueError as exc:
            c.err(top["schedule"][1], f"schedule: {exc}")
    recovery = c.duration(top["recovery_timeout"][1], "recovery_timeout") if "recovery_timeout" in top else 300_000
    dry = scalar(top["dry_run"][1]).lower() in ("true", "yes", "1") if "dry_run" in top else False
    if c.errors:
        raise DrillSpecError("\n".join(c.errors))
    return DrillSpec(
        title,
        scalar(top["description"][1]) if "description" in top else "",
        selector,
        mode,
        tuple(steady),
        tuple(faults),
        tuple(aborts),
        schedule,
        recovery,
        dry,
        file,
        text,
    )


def _conditions(c: _Checker, top: dict[str, tuple[yaml.Node, yaml.Node]], key: str, need_name: bool) -> list[Condition]:
    out = []
    for i, n in enumerate(c.items(top[key][1] if key in top else None, key)):
        cond = c.condition(n, f"{key}[{i}]", need_name)
        if cond is not None:
            out.append(cond)
    return out


def pick_count(mode: str, available: int) -> int:
    """How many of ``available`` hosts a mode targets."""
    if mode == "one":
        return min(1, available)
    if mode == "all":
        return available
    kind, _, n = mode.partition(":")
    if kind == "count":
        return min(int(n), available)
    return max(1, available * int(n) // 100) if available else 0
