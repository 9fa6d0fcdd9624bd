"""SLO files: Sloth's ``prometheus/v1`` spec, one SLO group per YAML
document (``---`` separated), plus ``sli.probe`` and ``sli.latency``
shorthands and an optional ``min_events`` per SLO. Errors are
``FILE:LINE:COL: [document N: ]key.path: message``; unknown keys are errors,
and Sloth's plugins (``sli.plugin``, ``plugins``, ``slo_plugins``) are
refused by name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from switchman.controller.promql import PromQLError, parse
from switchman.controller.yamlcheck import Checker, Fields, scalar

WINDOW = "{{.window}}"
WINDOW_RE = re.compile(r"\{\{ *\.window *\}\}")  # as Sloth matches it
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
    page_annotations: dict[str, str] = field(default_factory=dict)
    ticket_annotations: dict[str, str] = field(default_factory=dict)
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
        """Sloth's: the id labels, then the file's and the SLO's labels (which win, as in Sloth)."""
        return {"sloth_id": self.id, "sloth_service": self.service, "sloth_slo": self.name, **self.labels}


TOP_KEYS = ("version", "service", "labels", "slos", "slo_plugins")
SLO_KEYS = ("name", "objective", "description", "labels", "sli", "alerting", "plugins", "min_events")
SLI_KEYS = ("events", "raw", "probe", "latency", "plugin")
BODY_KEYS = {
    "events": ("error_query", "total_query"),
    "raw": ("error_ratio_query",),
    "probe": ("service",),
    "latency": ("service", "threshold"),
}
ALERTING_KEYS = ("name", "labels", "annotations", "page_alert", "ticket_alert")
ALERT_KEYS = ("disable", "labels", "annotations")


class DocChecker(Checker):
    """A checker whose messages name the document (files with more than one)."""

    def __init__(self, file: str, prefix: str) -> None:
        super().__init__(file)
        self.prefix = prefix

    def err(self, node: yaml.Node | None, message: str) -> None:
        super().err(node, self.prefix + message)


def _unknown(m: Fields, known: tuple[str, ...], where: str) -> None:
    path = f"{where}." if where else ""
    m.unknown(known, path + "{key}: unknown key (known: {known})")


def _query(c: Checker, node: yaml.Node | None, what: str) -> str:
    """A ratio query: with ``{{.window}}`` (the window each ratio is computed over), parsing once it is filled."""
    text = scalar(node)
    if not WINDOW_RE.search(text):
        c.err(node, f"{what}: missing {WINDOW} (the window each ratio is computed over)")
        return ""
    try:
        parse(WINDOW_RE.sub("5m", text))
    except PromQLError as exc:
        c.err(node, f"{what}: {exc}")
        return ""
    return WINDOW_RE.sub(WINDOW, text)


def _plugins(c: Checker, m: Fields, key: str, where: str) -> None:
    """Sloth's SLO plugin chain: refused, naming each plugin."""
    if key not in m:
        return
    ids = [Fields(c, n).text("id") for n in m.fields(key).items("chain", f"{where}.chain")]
    named = ", ".join(repr(i) for i in dict.fromkeys(ids) if i) or "none named"
    c.err(m.key(key), f"{where}: SLO plugins are not supported (plugins: {named}); remove the {key} block")


def _sli(c: Checker, node: yaml.Node | None, where: str) -> dict[str, object] | None:
    m = c.fields(node)
    _unknown(m, SLI_KEYS, where)
    if "plugin" in m:
        plugin = m.fields("plugin").text("id") or "(no id)"
        c.err(
            m.key("plugin"),
            f"{where}.plugin: SLI plugins are not supported (plugin {plugin!r}); "
            "write its query as sli.events or sli.raw",
        )
        return None
    kinds = [k for k in ("events", "raw", "probe", "latency") if k in m]
    if len(kinds) != 1:
        c.err(node, f"{where}: give exactly one of events, raw, probe or latency")
        return None
    kind = kinds[0]
    body = m.fields(kind)
    _unknown(body, BODY_KEYS[kind], f"{where}.{kind}")
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


def _alerting(alerting: Fields, default_name: str, where: str) -> AlertSpec:
    _unknown(alerting, ALERTING_KEYS, where)
    page, ticket = alerting.fields("page_alert"), alerting.fields("ticket_alert")
    _unknown(page, ALERT_KEYS, f"{where}.page_alert")
    _unknown(ticket, ALERT_KEYS, f"{where}.ticket_alert")
    return AlertSpec(
        name=alerting.text("name", default_name),
        labels=alerting.strings("labels"),
        annotations=alerting.strings("annotations"),
        page_labels=page.strings("labels"),
        ticket_labels=ticket.strings("labels"),
        page_annotations=page.strings("annotations"),
        ticket_annotations=ticket.strings("annotations"),
        page=page.text("disable").lower() != "true",
        ticket=ticket.text("disable").lower() != "true",
    )


def _documents(text: str, file: str) -> list[yaml.Node]:
    """The file's non-empty YAML documents.

    :raises SLOSpecError: when the text is not YAML.
    """
    try:
        docs = list(yaml.compose_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise SLOSpecError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return [d for d in docs if d is not None and not (d.tag == "tag:yaml.org,2002:null" and not d.value)]


def _slo(c: Checker, node: yaml.Node, i: int, service: str, labels: dict[str, str], file: str) -> SLO | None:
    where = f"slos[{i}]"
    m = c.fields(node)
    _unknown(m, SLO_KEYS, where)
    _plugins(c, m, "plugins", f"{where}.plugins")
    name = m.text("name")
    if not NAME.fullmatch(name):
        c.err(m.at("name"), f"{where}.name: {name!r} is not a name")
    try:
        objective = float(m.text("objective", "-1"))
    except ValueError:
        objective = -1.0
    if not 0 < objective < 100:
        c.err(m.at("objective"), f"{where}.objective: must be a percentage strictly between 0 and 100")
    if "sli" not in m:
        c.err(node, f"{where}: needs an sli")
        return None
    sli = _sli(c, m.get("sli"), f"{where}.sli")
    min_events = int(m.text("min_events")) if m.text("min_events").isdigit() else 10
    default_name = f"{service}-{name}".replace("-", "_").title().replace("_", "")
    alert = _alerting(m.fields("alerting"), default_name, f"{where}.alerting")
    if sli is None:
        return None
    return SLO(
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
        alert,
        file,
    )


def _document(c: Checker, root: yaml.Node, file: str) -> list[SLO]:
    top = c.fields(root)
    if not top.is_mapping:
        c.err(root, "expected a mapping with version, service and slos")
        return []
    _unknown(top, TOP_KEYS, "")
    _plugins(c, top, "slo_plugins", "slo_plugins")
    version = top.text("version")
    if version != "prometheus/v1":
        c.err(top.at("version"), f"version: {version!r} is not prometheus/v1")
    service = top.text("service")
    if not NAME.fullmatch(service):
        c.err(top.at("service"), f"service: {service!r} is not a name")
    slos = top.get("slos")
    if not isinstance(slos, yaml.SequenceNode) or not slos.value:
        c.err(top.at("slos"), "slos: a list of at least one SLO")
        return []
    labels = top.strings("labels")
    return [s for i, n in enumerate(slos.value) if (s := _slo(c, n, i, service, labels, file)) is not None]


def parse_slo_file(text: str, file: str) -> list[SLO]:
    """Every document's SLOs; problems name the document when the file has several.

    :raises SLOSpecError:
    """
    docs = _documents(text, file)
    if not docs:
        raise SLOSpecError(f"{file}: expected a mapping with version, service and slos")
    out: list[SLO] = []
    errors: list[str] = []
    for n, root in enumerate(docs, 1):
        c = DocChecker(file, f"document {n}: " if len(docs) > 1 else "")
        out += _document(c, root, file)
        errors += c.errors
    if errors:
        raise SLOSpecError("\n".join(errors))
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
