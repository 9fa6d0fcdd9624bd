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
from switchman.controller.yamlcheck import Checker, Fields, NotYAML, compose

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
UNKNOWN = "unknown key {key!r} (known: {known})"  # formatted by Fields.unknown
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


def _condition(c: Checker, node: yaml.Node, where: str, need_name: bool) -> Condition | None:
    f = c.fields(node)
    if not f:
        c.err(node, f"{where}: expected a mapping with expr (or alert)")
        return None
    f.unknown({"name", "expr", "alert"}, f"{where}: {UNKNOWN}")
    expr, alert = f.text("expr"), f.text("alert")
    if bool(expr) == bool(alert):
        c.err(node, f"{where}: give exactly one of expr or alert")
        return None
    if expr:
        try:
            parse(expr)
        except PromQLError as exc:
            c.err(f.get("expr"), f"{where}: expr: {exc}")
            return None
    name = f.text("name")
    if need_name and not name:
        c.err(node, f"{where}: needs a name")
    return Condition(name or alert or expr, expr, alert)


def _fault(c: Checker, node: yaml.Node, where: str) -> FaultStep | None:
    f = c.fields(node)
    if not f:
        c.err(node, f"{where}: expected a mapping with kind and duration")
        return None
    f.unknown({"kind", "duration", "service", "params"}, f"{where}: {UNKNOWN}")
    kind = f.text("kind")
    if kind not in FAULT_KINDS:
        c.err(f.at("kind"), f"{where}: kind: {kind!r} is not one of {', '.join(sorted(FAULT_KINDS))}")
        return None
    if "duration" not in f:
        c.err(node, f"{where}: every fault needs a duration")
        return None
    duration = f.duration_ms("duration", 0, f"{where}: duration", positive=True)
    params = {}
    if "params" in f:
        c.mapping(f.get("params"), f"{where}: params: expected a mapping")
        params = f.strings("params")
    return FaultStep(kind, duration, f.text("service"), params)


def parse_drill(text: str, file: str = "drill.yml") -> DrillSpec:
    """:raises DrillSpecError: with every problem as FILE:LINE:COL: message."""
    try:
        root = compose(text, file)
    except NotYAML as exc:
        raise DrillSpecError(f"{exc.where}: not valid YAML: {exc.problem}") from None
    c = Checker(file)
    top = c.fields(root)
    if not top:
        raise DrillSpecError(f"{file}: expected a mapping with title, targets, steady_state and faults")
    top.unknown(TOP_KEYS, UNKNOWN)
    title = top.text("title")
    if not title:
        c.err(root, "title: required")
    targets = top.fields("targets")
    if "targets" not in top:
        c.err(root, "targets: required (selector and mode)")
    mode = targets.text("mode", "one")
    if not MODE.fullmatch(mode):
        c.err(targets.get("mode"), f"targets.mode: {mode!r} is not one, all, count:N or percent:N")
    steady = _conditions(c, top, "steady_state", need_name=True)
    faults = []
    for i, n in enumerate(top.items("faults")):
        step = _fault(c, n, f"faults[{i}]")
        if step is not None:
            faults.append(step)
    if "faults" not in top:
        c.err(root, "faults: required")
    elif not faults and not c.errors:
        c.err(top.get("faults"), "faults: at least one fault")
    aborts = _conditions(c, top, "abort_when", need_name=False)
    schedule = top.text("schedule")
    if schedule:
        try:
            CronTrigger.from_crontab(schedule)
        except ValueError as exc:
            c.err(top.get("schedule"), f"schedule: {exc}")
    recovery = top.duration_ms("recovery_timeout", 300_000, positive=True)
    dry = top.text("dry_run").lower() in ("true", "yes", "1")
    c.raise_if_any(DrillSpecError)
    return DrillSpec(
        title,
        top.text("description"),
        targets.strings("selector"),
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


def _conditions(c: Checker, top: Fields, key: str, need_name: bool) -> list[Condition]:
    conditions = (_condition(c, n, f"{key}[{i}]", need_name) for i, n in enumerate(top.items(key)))
    return [cond for cond in conditions if cond is not None]


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
