"""Prometheus' query endpoints: ``query``, ``query_range``, ``series``,
``labels``, ``label/<name>/values``, ``metadata``, ``query_exemplars``.
Parameters come from the query string and, for POST, the form body."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from switchman.controller.http.context import controller
from switchman.controller.http.encode import dumps, encode_value, error, success, success_data
from switchman.controller.http.params import (
    MAX_TIME_MS,
    MIN_TIME_MS,
    BadParam,
    parse_matchers,
    parse_step_ms,
    parse_time_ms,
)
from switchman.controller.promql import PromQLError, parse
from switchman.controller.promql.evaluator import MAX_STEPS
from switchman.controller.store.sqlite.samples import SeriesCatalog
from switchman.controller.wiring import Controller

DEFAULT_TIMEOUT_MS = 120_000
Handler = Callable[[web.Request], Awaitable[web.Response]]


def respond(status_code: int, body: str) -> web.Response:
    return web.Response(status=status_code, text=body, content_type="application/json")


async def form(request: web.Request) -> MultiDict[str]:
    """Query string and form body together, as Prometheus' ``r.Form``."""
    values: MultiDict[str] = MultiDict(request.query)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        body: MultiDictProxy[Any] = await request.post()
        for k, v in body.items():
            values.add(k, str(v))
    return values


def api(fn: Callable[[web.Request, MultiDict[str], Controller], Awaitable[str]]) -> Handler:
    """Bad parameters answer 400 ``bad_data``; evaluation errors 422 ``execution``; a timeout 503."""

    async def handler(request: web.Request) -> web.Response:
        try:
            return respond(200, await fn(request, await form(request), controller(request)))
        except BadParam as exc:
            return respond(400, error("bad_data", str(exc)))
        except ExecutionError as exc:
            return respond(422, error("execution", str(exc)))
        except TimeoutError:
            return respond(503, error("timeout", "query timed out in expression evaluation"))

    return handler


class ExecutionError(Exception):
    """An expression that parsed but failed to evaluate (Prometheus' 422 ``execution``)."""


def _time(values: MultiDict[str], name: str, default: int) -> int:
    text = values.get(name, "")
    return parse_time_ms(text, name) if text else default


def _timeout_s(values: MultiDict[str]) -> float:
    text = values.get("timeout", "")
    ms = parse_step_ms(text, "timeout") if text else DEFAULT_TIMEOUT_MS
    return min(ms, DEFAULT_TIMEOUT_MS) / 1000 if ms > 0 else DEFAULT_TIMEOUT_MS / 1000


def _parse(values: MultiDict[str]) -> Any:
    expr = values.get("query", "")
    try:
        return parse(expr)
    except PromQLError as exc:
        raise BadParam(f'invalid parameter "query": {exc}') from None


async def _evaluate(fn: Callable[[], Any], timeout_s: float) -> Any:
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn), timeout_s)
    except PromQLError as exc:
        raise ExecutionError(str(exc)) from None
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        raise ExecutionError(f"evaluation failed: {exc}") from None


@api
async def query(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    node = _parse(values)
    t = _time(values, "time", c.clock_ms())
    value = await _evaluate(lambda: c.evaluator.instant(node, t), _timeout_s(values))
    return success(encode_value(value))


@api
async def query_range(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    start = parse_time_ms(values.get("start", ""), "start")
    end = parse_time_ms(values.get("end", ""), "end")
    if end < start:
        raise BadParam('invalid parameter "end": end timestamp must not be before start time')
    step = parse_step_ms(values.get("step", ""), "step")
    if step <= 0:
        raise BadParam(
            'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
            "Try a positive integer"
        )
    if (end - start) // step + 1 > MAX_STEPS:
        raise BadParam(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        )
    node = _parse(values)
    matrix = await _evaluate(lambda: c.evaluator.range(node, start, end, step), _timeout_s(values))
    encoded = encode_value(matrix)
    if not matrix:
        encoded = '{"resultType":"matrix","result":[]}'
    return success(encoded)


def _catalog(c: Controller) -> SeriesCatalog:
    return SeriesCatalog(c.storage.index, c.storage.reader)


async def _series(values: MultiDict[str], c: Controller, required: bool) -> list[dict[str, str]]:
    selectors = values.getall("match[]", [])
    if required and not selectors:
        raise BadParam("no match[] parameter provided")
    matcher_sets = parse_matchers(selectors)
    start = _time(values, "start", MIN_TIME_MS)
    end = _time(values, "end", MAX_TIME_MS)
    return await asyncio.to_thread(_catalog(c).series, matcher_sets, start, end)


def _limit(values: MultiDict[str]) -> int:
    text = values.get("limit", "")
    if not text:
        return 0
    try:
        n = int(text)
    except ValueError:
        raise BadParam(f'invalid parameter "limit": cannot parse {text!r} to a valid limit') from None
    return max(n, 0)


def _limited(items: list[Any], limit: int) -> tuple[list[Any], list[str]]:
    if limit and len(items) > limit:
        return items[:limit], ["results truncated due to limit"]
    return items, []


@api
async def series(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    found, warnings = _limited(await _series(values, c, required=True), _limit(values))
    return success(dumps(found), warnings)


@api
async def labels(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    names = sorted({k for s in await _series(values, c, required=False) for k in s})
    found, warnings = _limited(names, _limit(values))
    return success(dumps(found), warnings)


@api
async def label_values(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    name = request.match_info["name"]
    if name.startswith("U__"):  # Prometheus' escaping of names with other characters
        name = name[3:]
    found_series = await _series(values, c, required=False)
    found, warnings = _limited(sorted({s[name] for s in found_series if s.get(name)}), _limit(values))
    return success(dumps(found), warnings)


@api
async def metadata(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    """No metric metadata travels with pushed samples yet: an empty map, as
    Prometheus answers for metrics it has no metadata for."""
    _limit(values)
    return success_data({})


@api
async def query_exemplars(request: web.Request, values: MultiDict[str], c: Controller) -> str:
    _parse(values)
    return success_data([])


ROUTES: list[tuple[str, Handler]] = [
    ("/api/v1/query", query),
    ("/api/v1/query_range", query_range),
    ("/api/v1/series", series),
    ("/api/v1/labels", labels),
    ("/api/v1/label/{name}/values", label_values),
    ("/api/v1/metadata", metadata),
    ("/api/v1/query_exemplars", query_exemplars),
]
