"""Prometheus' state endpoints over the controller: ``rules``, ``alerts``,
``targets`` (the agents), ``status/*``, and ``/api/v1/sd`` in Prometheus'
HTTP service-discovery format."""

from __future__ import annotations

import asyncio
import math
import platform
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import yaml
from aiohttp import web
from multidict import MultiDict
from switchman.controller import __version__
from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.alerts.manager import rule_key
from switchman.controller.alerts.rules import Group
from switchman.controller.config import KEYS
from switchman.controller.fleet import Host
from switchman.controller.http.context import controller
from switchman.controller.http.encode import dumps, success_data
from switchman.controller.http.params import BadParam
from switchman.controller.http.promapi import api
from switchman.controller.promql import parse
from switchman.controller.promql.values import Sample
from switchman.controller.wiring import Controller
from switchman.proto.durations import format_duration_ms

# the Prometheus release whose API and PromQL this API answers like (clients choose features by it)
COMPATIBLE_PROMETHEUS = "2.42.0"
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(ms: int) -> str:
    if ms <= 0:
        return ZERO_TIME
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def format_e(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'e', -1, 64)``: ``1e+00``, ``2.5e-03`` (alert values)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign, digits, exp = Decimal(repr(v)).as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exponent = exp + len(digits) - 1 if any(digits) else 0
    mantissa = ds[0] + (f".{ds[1:]}" if len(ds) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def alert_json(a: Alert) -> dict[str, Any]:
    return {
        "labels": a.labels,
        "annotations": a.annotations,
        "state": a.state.value,
        "activeAt": rfc3339(a.active_at_ms),
        "value": format_e(a.value),
    }


def _group_json(c: Controller, g: Group, want: str) -> dict[str, Any] | None:
    rules = []
    last_eval, seconds = 0, 0.0
    for r in g.rules:
        kind = "alerting" if r.kind == "alerting" else "recording"
        if want and not kind.startswith(want):
            continue
        key = rule_key(g, r)
        h = c.rules.health.get(key)
        last_eval = max(last_eval, h.last_eval_ms if h else 0)
        seconds += h.seconds if h else 0.0
        entry: dict[str, Any] = {
            "name": r.name,
            "query": r.expr_text,
            "labels": r.labels,
            "health": ("err" if h.last_error else "ok") if h else "unknown",
            "lastError": h.last_error if h else "",
            "evaluationTime": h.seconds if h else 0.0,
            "lastEvaluation": rfc3339(h.last_eval_ms if h else 0),
            "type": kind,
        }
        if kind == "alerting":
            active = [a for a in (c.rules.alerting[key].active.values()) if a.state is not AlertState.INACTIVE]
            states = {a.state for a in active}
            entry.update(
                state="firing" if AlertState.FIRING in states else "pending" if states else "inactive",
                duration=r.for_ms / 1000,
                keepFiringFor=r.keep_firing_for_ms / 1000,
                annotations=r.annotations,
                alerts=[alert_json(a) for a in active],
            )
        rules.append(entry)
    if want and not rules:
        return None
    return {
        "name": g.name,
        "file": g.file,
        "rules": rules,
        "interval": g.interval_ms / 1000,
        "limit": 0,
        "evaluationTime": seconds,
        "lastEvaluation": rfc3339(last_eval),
    }


@api
async def rules(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    want = values.get("type", "")
    if want not in ("", "alert", "record"):
        raise BadParam(f'invalid parameter "type": {want!r} is not alert or record')
    groups = [j for g in c.rules.groups if (j := _group_json(c, g, want)) is not None]
    return success_data({"groups": groups})


@api
async def alerts(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    return success_data({"alerts": [alert_json(a) for a in c.rules.alerts()]})


def target_json(c: Controller, h: Host) -> dict[str, Any]:
    """An agent as a target: it pushes, so its last push is the "scrape"."""
    up = c.fleet.is_up(h)
    address = h.metrics_address or h.address
    return {
        "discoveredLabels": {"__address__": address, "__metrics_path__": "/metrics", "__scheme__": "http"},
        "labels": {"instance": h.host_id, "job": h.job},
        "scrapePool": h.job,
        "scrapeUrl": f"http://{address}/metrics",
        "globalUrl": f"http://{address}/metrics",
        "lastError": "" if up else "no heartbeat within heartbeat_ttl",
        "lastScrape": rfc3339(h.last_push_ms),
        "lastScrapeDuration": 0.0,
        "health": "up" if up else "down",
        "scrapeInterval": format_duration_ms(c.heartbeat_interval_ms),
        "scrapeTimeout": format_duration_ms(c.heartbeat_interval_ms),
    }


def scrape_targets(c: Controller) -> list[dict[str, Any]]:
    """What the agents scrape, from the ``up`` and ``scrape_duration_seconds`` they push."""
    now = c.clock_ms()

    def vector(expr: str) -> list[Sample]:
        value = c.evaluator.instant(parse(expr), now)
        return [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []

    durations = {
        tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__")): s.v
        for s in vector("scrape_duration_seconds")
    }
    out = []
    for s in vector("up"):
        if s.labels.get("instance") == s.labels.get("host"):
            continue  # the agents' own up, written by the controller
        labels = {k: v for k, v in s.labels.items() if k != "__name__"}
        url = f"http://{labels.get('instance', '')}/metrics"
        out.append(
            {
                "discoveredLabels": {"__address__": labels.get("instance", ""), "job": labels.get("job", "")},
                "labels": labels,
                "scrapePool": labels.get("job", ""),
                "scrapeUrl": url,
                "globalUrl": url,
                "lastError": "" if s.v == 1 else "the agent's last scrape failed (see its log)",
                "lastScrape": rfc3339(now),
                "lastScrapeDuration": durations.get(tuple(sorted(labels.items())), 0.0),
                "health": "up" if s.v == 1 else "down",
                "scrapeInterval": "",
                "scrapeTimeout": "",
            }
        )
    return sorted(out, key=lambda t: (t["scrapePool"], t["labels"].get("host", ""), t["labels"].get("instance", "")))


@api
async def targets(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    state = values.get("state", "any")
    hosts = sorted(c.fleet.hosts.values(), key=lambda h: h.host_id)
    active: list[dict[str, Any]] = []
    if state in ("", "any", "active"):
        active = [target_json(c, h) for h in hosts] + await asyncio.to_thread(scrape_targets, c)
    return success_data({"activeTargets": active, "droppedTargets": []})


@api
async def buildinfo(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    return success_data(
        {
            "version": COMPATIBLE_PROMETHEUS,
            "revision": f"switchman-controller {__version__}",
            "branch": "switchman",
            "buildUser": "switchman",
            "buildDate": "",
            "goVersion": f"python{platform.python_version()}",
            "application": "switchman",
        }
    )


def _settings(c: Controller) -> dict[str, Any]:
    """The controller's settings without the tables (notifier URLs and keys stay private)."""
    return {k.name: getattr(c.config, k.attr or k.name) for k in KEYS if k.kind != "tables"}


@api
async def config(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    doc = {
        "global": {"evaluation_interval": format_duration_ms(c.heartbeat_interval_ms)},
        "rule_files": list(c.config.rule_files),
        "switchman": {
            k: str(v) if not isinstance(v, list | dict | bool | int | float) else v for k, v in _settings(c).items()
        },
    }
    return success_data({"yaml": yaml.safe_dump(doc, sort_keys=False)})


@api
async def flags(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    return success_data({k.replace("_", "-"): str(v) for k, v in _settings(c).items()})


@api
async def runtimeinfo(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    return success_data(
        {
            "startTime": rfc3339(c.clock_ms()),
            "CWD": "/",
            "reloadConfigSuccess": True,
            "lastConfigTime": rfc3339(c.clock_ms()),
            "storageRetention": format_duration_ms(c.retention.raw_ms),
        }
    )


async def sd(request: web.Request) -> web.Response:
    """The agents' metrics endpoints for a Prometheus' ``http_sd_configs``:
    ``host`` and ``instance`` are the host id (as on the controller's own
    series), the host's labels and state as ``__meta_switchman_*``."""
    c = controller(request)
    groups = []
    for h in sorted(c.fleet.hosts.values(), key=lambda h: h.host_id):
        if not h.metrics_address:
            continue
        meta = {f"__meta_switchman_label_{k}": v for k, v in h.labels.items()}
        meta |= {
            "__meta_switchman_host_id": h.host_id,
            "__meta_switchman_hostname": h.hostname,
            "__meta_switchman_agent_version": h.agent_version,
            "__meta_switchman_up": "true" if c.fleet.is_up(h) else "false",
        }
        groups.append({"targets": [h.metrics_address], "labels": {"host": h.host_id, "instance": h.host_id, **meta}})
    return web.Response(text=dumps(groups), content_type="application/json")


ROUTES: list[tuple[str, Callable[[web.Request], Awaitable[web.Response]]]] = [
    ("/api/v1/rules", rules),
    ("/api/v1/alerts", alerts),
    ("/api/v1/targets", targets),
    ("/api/v1/status/buildinfo", buildinfo),
    ("/api/v1/status/config", config),
    ("/api/v1/status/flags", flags),
    ("/api/v1/status/runtimeinfo", runtimeinfo),
    ("/api/v1/sd", sd),
]
