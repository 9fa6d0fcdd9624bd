"""SLO files: Sloth's ``prometheus/v1`` spec, plus ``sli.probe`` and
``sli.latency`` shorthands and an optional ``min_events`` per SLO. Errors are
``FILE:LINE:COL: message``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.promql import PromQLError, parse
from switchman.controller.yamlpos import mapping, pos, scalar
from switchman.proto.durations import DurationError, parse_duration_ms

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


def _labels(node: yaml.Node | None) -> dict[str, str]:
    return {k: scalar(v) for k, (_, v) in mapping(node).items()} if node is not None else {}


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[str] = []

    def err(self, node: yaml.Node, message: str) -> None:
        self.errors.append(f"{pos(self.file, node)}: {message}")

    def query(self, node: yaml.Node, what: str, needs_window: bool) -> str:
        text = scalar(node)
        if needs_window and WINDOW not in text:
            self.err(node, f"{what}: missing {WINDOW} (the window each ratio is computed over)")
            return ""
        try:
            parse(text.replace(WINDOW, "5m"))
        except PromQLError as exc:
            self.err(node, f"{what}: {exc}")
            return ""
        return text


def _sli(c: _Checker, node: yaml.Node, where: str) -> dict[str, object] | None:
    m = mapping(node)
    kinds = [k for k in ("events", "raw", "probe", "latency") if k in m]
    if len(kinds) != 1:
        c.err(node, f"{where}: give exactly one of events, raw, probe or latency")
        return None
    kind = kinds[0]
    body = mapping(m[kind][1])
    if kind == "events":
        if "error_query" not in body or "total_query" not in body:
            c.err(m[kind][1], f"{where}.events: needs error_query and total_query")
            return None
        return {
            "kind": kind,
            "error_query": c.query(body["error_query"][1], f"{where}.events.error_query", True),
            "total_query": c.query(body["total_query"][1], f"{where}.events.total_query", True),
        }
    if kind == "raw":
        if "error_ratio_query" not in body:
            c.err(m[kind][1], f"{where}.raw: needs error_ratio_query")
            return None
        return {
            "kind": kind,
            "ratio_query": c.query(body["error_ratio_query"][1], f"{where}.raw.error_ratio_query", True),
        }
    service = scalar(body["service"][1]) if "service" in body else ""
    if not service:
        c.err(m[kind][1], f"{where}.{kind}: needs service")
        return None
    out: dict[str, object] = {"kind": kind, "probe_service": service}
    if kind == "latency":
        if "threshold" not in body:
            c.err(m[kind][1], f"{where}.latency: needs threshold (e.g. 300ms)")
            return None
        try:
            out["threshold_s"] = parse_duration_ms(scalar(body["threshold"][1])) / 1000
        except DurationError as exc:
            c.err(body["threshold"][1], f"{where}.latency.threshold: {exc}")
    return out


def _alerting(node: yaml.Node | None, default_name: str) -> AlertSpec:
    m = mapping(node) if node is not None else {}
    page = mapping(m["page_alert"][1]) if "page_alert" in m else {}
    ticket = mapping(m["ticket_alert"][1]) if "ticket_alert" in m else {}
    return AlertSpec(
        name=scalar(m["name"][1]) if "name" in m else default_name,
        labels=_labels(m["labels"][1]) if "labels" in m else {},
        annotations=_labels(m["annotations"][1]) if "annotations" in m else {},
        page_labels=_labels(page["labels"][1]) if "labels" in page else {},
        ticket_labels=_labels(ticket["labels"][1]) if "labels" in ticket else {},
        page=not ("disable" in page and scalar(page["disable"][1]).lower() == "true"),
        ticket=not ("disable" in ticket and scalar(ticket["disable"][1]).lower() == "true"),
    )


def parse_slo_file(text: str, file: str) -> list[SLO]:
    """:raises SLOSpecError:"""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SLOSpecError(
            f"{file}:{mark.line + 1}:{mark.column + 1}: not valid YAML" if mark else f"{file}: not valid YAML"
        ) from None
    top = mapping(root) if root is not None else {}
    if not top or root is None:
        raise SLOSpecError(f"{file}: expected a mapping with version, service and slos")
    c = _Checker(file)
    version = scalar(top["version"][1]) if "version" in top else ""
    if version != "prometheus/v1":
        c.err(top["version"][1] if "version" in top else root, f"version: {version!r} is not prometheus/v1")
    service = scalar(top["service"][1]) if "service" in top else ""
    if not NAME.fullmatch(service):
        c.err(top["service"][1] if "service" in top else root, f"service: {service!r} is not a name")
    labels = _labels(top["labels"][1]) if "labels" in top else {}
    out = []
    slos = top["slos"][1] if "slos" in top else None
    if not isinstance(slos, yaml.SequenceNode) or not slos.value:
        c.err(slos or root, "slos: a list of at least one SLO")
        raise SLOSpecError("\n".join(c.errors))
    for i, node in enumerate(slos.value):
        where = f"slos[{i}]"
        m = mapping(node)
        name = scalar(m["name"][1]) if "name" in m else ""
        if not NAME.fullmatch(name):
            c.err(m["name"][1] if "name" in m else node, f"{where}.name: {name!r} is not a name")
        try:
            objective = float(scalar(m["objective"][1])) if "objective" in m else -1.0
        except ValueError:
            objective = -1.0
        if not 0 < objective < 100:
            c.err(
                m["objective"][1] if "objective" in m else node,
                f"{where}.objective: must be a percentage strictly between 0 and 100",
            )
        sli = _sli(c, m["sli"][1], f"{where}.sli") if "sli" in m else None
        if "sli" not in m:
            c.err(node, f"{where}: needs an sli")
        min_events = (
            int(scalar(m["min_events"][1])) if "min_events" in m and scalar(m["min_events"][1]).isdigit() else 10
        )
        if sli is None:
            continue
        out.append(
            SLO(
                service,
                name,
                objective,
                scalar(m["description"][1]) if "description" in m else "",
                {**labels, **(_labels(m["labels"][1]) if "labels" in m else {})},
                str(sli["kind"]),
                str(sli.get("error_query", "")),
                str(sli.get("total_query", "")),
                str(sli.get("ratio_query", "")),
                str(sli.get("probe_service", "")),
                float(str(sli.get("threshold_s", 0.0))),
                min_events,
                _alerting(
                    m["alerting"][1] if "alerting" in m else None,
                    f"{service}-{name}".replace("-", "_").title().replace("_", ""),
                ),
                file,
            )
        )
    if c.errors:
        raise SLOSpecError("\n".join(c.errors))
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
