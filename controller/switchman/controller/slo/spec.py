"""SLO files: Sloth's ``prometheus/v1`` spec, plus ``sli.probe`` and
``sli.latency`` shorthands and an optional ``min_events`` per SLO. Errors are
``FILE:LINE:COL: message``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.promql import PromQLError, parse
from switchman.controller.yamlcheck import Checker, Fields, NotYAML, compose, scalar

WINDOW = "{{.window}}"
NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")


class SLOSpecError(ValueError):
    """Every problem of an SLO file, one per line."""


@dataclass(frozen=True)
class AlertSpec:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    page_labels: dict[str, str] = field(default_factory=dict)
    ticket_labels: dict[str, str] = field(default_factory=dict)
    page: bool = True
    ticket: bool = True


@dataclass(frozen=True)
class SLO:
    service: str
    name: str
    objective: float  # percent
    description: str
    labels: dict[str, str]
    kind: str  # events | raw | probe | latency
    error_query: str = ""
    total_query: str = ""
    ratio_query: str = ""
    probe_service: str = ""
    threshold_s: float = 0.0
    min_events: int = 10
    alert: AlertSpec = field(default_factory=lambda: AlertSpec(""))
    file: str = ""

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def budget(self) -> float:
        return 1 - self.objective / 100

    def series_labels(self) -> dict[str, str]:
        return {**self.labels, "sloth_service": self.service, "sloth_slo": self.name, "sloth_id": self.id}


def _query(c: Checker, node: yaml.Node | None, what: str) -> str:
    """A ratio query: with ``{{.window}}`` (the window each ratio is computed over), parsing once it is filled."""
    text = scalar(node)
    if WINDOW not in text:
        c.err(node, f"{what}: missing {WINDOW} (the window each ratio is computed over)")
        return ""
    try:
        parse(text.replace(WINDOW, "5m"))
    except PromQLError as exc:
        c.err(node, f"{what}: {exc}")
        return ""
    return text


def _sli(c: Checker, node: yaml.Node | None, where: str) -> dict[str, object] | None:
    m = c.fields(node)
    kinds = [k for k in ("events", "raw", "probe", "latency") if k in m]
    if len(kinds) != 1:
        c.err(node, f"{where}: give exactly one of events, raw, probe or latency")
        return None
    kind = kinds[0]
    body = m.fields(kind)
    if kind == "events":
        if "error_query" not in body or "total_query" not in body:
            c.err(body.node, f"{where}.events: needs error_query and total_query")
            return None
        return {
            "kind": kind,
            "error_query": _query(c, body.get("error_query"), f"{where}.events.error_query"),
            "total_query": _query(c, body.get("total_query"), f"{where}.events.total_query"),
        }
    if kind == "raw":
        if "error_ratio_query" not in body:
            c.err(body.node, f"{where}.raw: needs error_ratio_query")
            return None
        return {"kind": kind, "ratio_query": _query(c, body.get("error_ratio_query"), f"{where}.raw.error_ratio_query")}
    service = body.text("service")
    if not service:
        c.err(body.node, f"{where}.{kind}: needs service")
        return None
    out: dict[str, object] = {"kind": kind, "probe_service": service}
    if kind == "latency":
        if "threshold" not in body:
            c.err(body.node, f"{where}.latency: needs threshold (e.g. 300ms)")
            return None
        threshold_ms = c.duration_ms(body.get("threshold"), f"{where}.latency.threshold")
        if threshold_ms is not None:
            out["threshold_s"] = threshold_ms / 1000
    return out


def _alerting(alerting: Fields, default_name: str) -> AlertSpec:
    page, ticket = alerting.fields("page_alert"), alerting.fields("ticket_alert")
    return AlertSpec(
        name=alerting.text("name", default_name),
        labels=alerting.strings("labels"),
        annotations=alerting.strings("annotations"),
        page_labels=page.strings("labels"),
        ticket_labels=ticket.strings("labels"),
        page=page.text("disable").lower() != "true",
        ticket=ticket.text("disable").lower() != "true",
    )


def parse_slo_file(text: str, file: str) -> list[SLO]:
    """:raises SLOSpecError:"""
    try:
        root = compose(text, file)
    except NotYAML as exc:
        raise SLOSpecError(f"{exc.where}: not valid YAML") from None
    c = Checker(file)
    top = c.fields(root)
    if not top:
        raise SLOSpecError(f"{file}: expected a mapping with version, service and slos")
    version = top.text("version")
    if version != "prometheus/v1":
        c.err(top.at("version"), f"version: {version!r} is not prometheus/v1")
    service = top.text("service")
    if not NAME.fullmatch(service):
        c.err(top.at("service"), f"service: {service!r} is not a name")
    labels = top.strings("labels")
    slos = top.get("slos")
    if not isinstance(slos, yaml.SequenceNode) or not slos.value:
        c.err(top.at("slos"), "slos: a list of at least one SLO")
        raise SLOSpecError("\n".join(c.errors))
    out = []
    for i, node in enumerate(slos.value):
        where = f"slos[{i}]"
        m = c.fields(node)
        name = m.text("name")
        if not NAME.fullmatch(name):
            c.err(m.at("name"), f"{where}.name: {name!r} is not a name")
        try:
            objective = float(m.text("objective", "-1"))
        except ValueError:
            objective = -1.0
        if not 0 < objective < 100:
            c.err(m.at("objective"), f"{where}.objective: must be a percentage strictly between 0 and 100")
        sli = _sli(c, m.get("sli"), f"{where}.sli") if "sli" in m else None
        if "sli" not in m:
            c.err(node, f"{where}: needs an sli")
        min_events = int(m.text("min_events")) if m.text("min_events").isdigit() else 10
        if sli is None:
            continue
        out.append(
            SLO(
                service,
                name,
                objective,
                m.text("description"),
                {**labels, **m.strings("labels")},
                str(sli["kind"]),
                str(sli.get("error_query", "")),
                str(sli.get("total_query", "")),
                str(sli.get("ratio_query", "")),
                str(sli.get("probe_service", "")),
                float(str(sli.get("threshold_s", 0.0))),
                min_events,
                _alerting(
                    m.fields("alerting"),
                    f"{service}-{name}".replace("-", "_").title().replace("_", ""),
                ),
                file,
            )
        )
    c.raise_if_any(SLOSpecError)
    return out


def load_slo_files(paths: list[str]) -> tuple[list[SLO], list[str]]:
    slos: list[SLO] = []
    errors: list[str] = []
    for p in paths:
        try:
            slos += parse_slo_file(Path(p).read_text(), p)
        except OSError as exc:
            errors.append(f"{p}: cannot read: {exc.strerror or exc}")
        except SLOSpecError as exc:
            errors += str(exc).splitlines()
    ids = [s.id for s in slos]
    errors += [f"SLO {i!r} is defined twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return slos, errors
