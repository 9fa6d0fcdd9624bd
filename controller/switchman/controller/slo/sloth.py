"""Sloth's generated rules, as its ``prometheus/v1`` generator writes them:
the SLI error-ratio recordings (one per alert window plus the period, the
period one from the 5m series), the metadata recordings (``slo:objective:ratio``
... ``sloth_slo_info``) and the multiwindow multi-burn-rate page and ticket
alerts, with Sloth's labels, annotations and number formatting.

Switchman computes the SLO series itself (:mod:`.engine`) with the same names
and labels; the alert rules here are what the rule engine evaluates, and
:func:`rule_groups` is the whole rule set, for export and for checking
against ``promtool``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from switchman.controller import __version__
from switchman.controller.slo.spec import SLO

WINDOW_RE = re.compile(r"\{\{ *\.window *\}\}")
WINDOW_LABEL = "sloth_window"
SPEC = "prometheus/v1"
MODE = "cli-gen-prom"  # Sloth's mode for rules generated from a prometheus/v1 file
VERSION = f"switchman-{__version__}"
SHORT = "5m"  # the page-quick short window: the period ratio and the current burn rate read it


@dataclass(frozen=True)
class BurnWindow:
    """One half of an alert: the burn factor over a short and a long window."""

    budget_percent: float  # of the period's error budget consumed over ``long``
    short: str
    long: str
    long_hours: float

    def factor(self, period_days: float) -> float:
        """Sloth's burn-rate factor: the speed that consumes the budget share in the long window."""
        return self.budget_percent * (period_days * 24) / 100 / self.long_hours


# Google's windows, the same for 28d and 30d periods (the factors follow the period)
PAGE = (BurnWindow(2, "5m", "1h", 1), BurnWindow(5, "30m", "6h", 6))
TICKET = (BurnWindow(10, "2h", "1d", 24), BurnWindow(10, "6h", "3d", 72))
ALERT_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@dataclass(frozen=True)
class GenRule:
    """A rule as Sloth writes it: ``record`` or ``alert``, never both."""

    expr: str
    labels: dict[str, str]
    record: str = ""
    alert: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"record": self.record} if self.record else {"alert": self.alert}
        out["expr"] = self.expr
        out["labels"] = dict(sorted(self.labels.items()))
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return out


# number and label formatting as Go writes them ----------------------------------
def _digits(x: float) -> tuple[str, int]:
    """The shortest round-tripping digits of ``|x|`` and the decimal point position (``0.DIGITS * 10**dp``)."""
    _, digits, exp = Decimal(repr(abs(x))).as_tuple()
    if not isinstance(exp, int):  # "n", "N", "F": never for a finite float
        raise ValueError(f"not a finite number: {x!r}")
    text = "".join(map(str, digits))
    stripped = text.rstrip("0")
    if not stripped:
        return "0", 1
    return stripped, len(text) + exp


def go_g(x: float) -> str:
    """``fmt.Sprintf("%g", x)``: shortest digits, exponent form below 1e-4 or from 1e6 (``1e-05``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1, x) < 0 else ""
    if x == 0:
        return sign + "0"
    digs, dp = _digits(x)
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mantissa = digs[0] + ("." + digs[1:] if len(digs) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return sign + _fixed(digs, dp)


def go_f(x: float) -> str:
    """``strconv.FormatFloat(x, 'f', -1, 64)``: shortest digits, never an exponent."""
    sign = "-" if x < 0 else ""
    digs, dp = _digits(x)
    return sign + _fixed(digs, dp)


def _fixed(digs: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digs
    if dp >= len(digs):
        return digs + "0" * (dp - len(digs))
    return digs[:dp] + "." + digs[dp:]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def id_labels(slo: SLO) -> dict[str, str]:
    return {"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name}


def prom_filter(slo: SLO) -> str:
    """Sloth's selector of one SLO's series, as Prometheus prints a label set."""
    return "{" + ", ".join(f"{k}={_quote(v)}" for k, v in sorted(id_labels(slo).items())) + "}"


def fill_window(query: str, window: str) -> str:
    return WINDOW_RE.sub(window, query)


# the labels of the series ------------------------------------------------------
def sli_labels(slo: SLO, window: str) -> dict[str, str]:
    """Of ``slo:sli_error:ratio_rate<window>``: the id labels, ``sloth_window``, then the SLO's labels."""
    return {**id_labels(slo), WINDOW_LABEL: window, **slo.labels}


def meta_labels(slo: SLO) -> dict[str, str]:
    return {**id_labels(slo), **slo.labels}


def info_labels(slo: SLO, version: str = VERSION, mode: str = MODE) -> dict[str, str]:
    return {
        **meta_labels(slo),
        "sloth_version": version,
        "sloth_mode": mode,
        "sloth_spec": SPEC,
        "sloth_objective": go_f(slo.objective),
    }


# the rules ---------------------------------------------------------------------
def _sli_expr(slo: SLO, window: str, period: str) -> str:
    if window == period:
        metric = f"slo:sli_error:ratio_rate{SHORT}{prom_filter(slo)}"
        return f"sum_over_time({metric}[{window}])\n/ ignoring ({WINDOW_LABEL})\ncount_over_time({metric}[{window}])\n"
    if slo.kind == "raw":
        return f"({fill_window(slo.ratio_query, window)})"
    return f"({fill_window(slo.error_query, window)})\n/\n({fill_window(slo.total_query, window)})\n"


def sli_rules(slo: SLO, period: str) -> list[GenRule]:
    """``slo:sli_error:ratio_rate<w>`` for the alert windows and the period (events and raw SLIs)."""
    return [
        GenRule(_sli_expr(slo, w, period), sli_labels(slo, w), record=f"slo:sli_error:ratio_rate{w}")
        for w in (*ALERT_WINDOWS, period)
    ]


def _burn_expr(slo: SLO, window: str) -> str:
    f = prom_filter(slo)
    return f"slo:sli_error:ratio_rate{window}{f}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio{f}\n"


def meta_rules(slo: SLO, period: str, period_days: float, version: str = VERSION) -> list[GenRule]:
    ratio, labels = go_g(slo.objective / 100), meta_labels(slo)
    return [
        GenRule(f"vector({ratio})", labels, record="slo:objective:ratio"),
        GenRule(f"vector(1-{ratio})", labels, record="slo:error_budget:ratio"),
        GenRule(f"vector({go_g(period_days)})", labels, record="slo:time_period:days"),
        GenRule(_burn_expr(slo, SHORT), labels, record="slo:current_burn_rate:ratio"),
        GenRule(_burn_expr(slo, period), labels, record="slo:period_burn_rate:ratio"),
        GenRule(
            f"1 - slo:period_burn_rate:ratio{prom_filter(slo)}",
            labels,
            record="slo:period_error_budget_remaining:ratio",
        ),
        GenRule("vector(1)", info_labels(slo, version), record="sloth_slo_info"),
    ]


def _mwmb_expr(slo: SLO, windows: tuple[BurnWindow, BurnWindow], period_days: float) -> str:
    f, budget = prom_filter(slo), go_g((100 - slo.objective) / 100)

    def cond(window: str, factor: float) -> str:
        return f"max(slo:sli_error:ratio_rate{window}{f} > ({go_g(factor)} * {budget})) without ({WINDOW_LABEL})"

    quick, slow = windows
    qf, sf = quick.factor(period_days), slow.factor(period_days)
    return (
        f"(\n    {cond(quick.short, qf)}\n    and\n    {cond(quick.long, qf)}\n)\nor\n"
        f"(\n    {cond(slow.short, sf)}\n    and\n    {cond(slow.long, sf)}\n)\n"
    )


def alert_rules(slo: SLO, period_days: float) -> list[GenRule]:
    """The page and ticket alerts (each unless disabled): Sloth's labels and annotations under the SLO's."""
    a, out = slo.alert, []
    for severity, enabled, windows, labels, notes in (
        ("page", a.page, PAGE, a.page_labels, a.page_annotations),
        ("ticket", a.ticket, TICKET, a.ticket_labels, a.ticket_annotations),
    ):
        if not enabled:
            continue
        defaults = {
            "title": f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast.",
            "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.",
        }
        out.append(
            GenRule(
                _mwmb_expr(slo, windows, period_days),
                {"sloth_severity": severity, **a.labels, **labels},
                alert=a.name,
                annotations={**defaults, **a.annotations, **notes},
            )
        )
    return out


def rule_groups(slos: list[SLO], period: str = "30d", version: str = VERSION) -> list[dict[str, object]]:
    """The rule file's ``groups`` as Sloth generates them (events and raw SLIs; the probe shorthands have no query)."""
    days = float(period.removesuffix("d"))
    out: list[dict[str, object]] = []
    for slo in slos:
        if slo.kind in ("events", "raw"):
            rules = sli_rules(slo, period)
            out.append({"name": f"sloth-slo-sli-recordings-{slo.id}", "rules": [r.to_dict() for r in rules]})
        meta = meta_rules(slo, period, days, version)
        out.append({"name": f"sloth-slo-meta-recordings-{slo.id}", "rules": [r.to_dict() for r in meta]})
        alerts = alert_rules(slo, days)
        if alerts:
            out.append({"name": f"sloth-slo-alerts-{slo.id}", "rules": [r.to_dict() for r in alerts]})
    return out
