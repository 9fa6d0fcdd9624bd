"""The builtin router in http mode (``protocol = "http"``): an HTTP/1.1
reverse proxy on the front port that routes each *request*, not each
connection (ADR 0019).

* A client connection stays open across flips: every request goes to the
  slot active (or picked by weight) when its head arrives. Requests on one
  connection are served one after the other, so pipelined requests get their
  responses in order.
* Upstream connections are kept alive in a pool per slot. A GET, HEAD or
  OPTIONS without a body that fails on a *reused* upstream connection before
  any byte of the answer came back is sent again once on a fresh connection
  (the server closed an idle connection as the request went out).
* ``connections(slot)`` counts requests in flight (and upgraded tunnels), so
  a drain ends when the old slot has answered what it was given; ``retire``
  then closes the slot's idle upstream connections.
* ``Connection: close`` from the client closes the client connection after
  the response; from the server it closes only that upstream connection.
  HTTP/1.0 clients get keep-alive when they ask for it. ``Upgrade`` (101)
  and ``CONNECT`` (2xx) turn the exchange into a raw tunnel.
* A head over :data:`~http1.MAX_HEAD` bytes or malformed is answered 400 and
  the connection closed; an unreachable or misbehaving upstream is a 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass
from typing import NoReturn

from switchman.agent.services.routers import http1
from switchman.agent.services.routers.builtin import CONNECT_TIMEOUT, BuiltinRouter, Upstream, _Conn
from switchman.agent.services.routers.http1 import BadMessage, Framing, Request, Response

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 60.0  # a client connection between requests (HAProxy's `timeout client` in our config)
IO_TIMEOUT = 60.0  # no progress on an exchange for this long ends it (504 while waiting for the answer)
WATCH_S = 1.0  # how often the watchdog looks at the deadlines
MAX_IDLE_PER_SLOT = 256
INLINE_BODY = 64 * 1024  # bodies up to this size are read whole and written with their head

_REASONS = {400: b"Bad Request", 502: b"Bad Gateway", 503: b"Service Unavailable", 504: b"Gateway Timeout"}


@dataclass(slots=True)
class _Upconn:
    up: Upstream
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _UpstreamFailed(Exception):
    """The upstream failed before answering; ``retry`` when the request may be sent again."""

    def __init__(self, why: str, retry: bool) -> None:
        super().__init__(why)
        self.retry = retry


class _ClientGone(Exception):
    """The client closed or broke its connection mid-exchange."""


@dataclass(slots=True, eq=False)
class _Client:
    """One client connection: its streams, the toxics it drew, and the watchdog's view of it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    toxics: _Conn
    deadline: float  # the watchdog ends the connection (or the exchange in progress) after this loop time
    upstream: _Upconn | None = None  # of the exchange in progress
    timed_out: bool = False

    def expire(self) -> None:
        """Past its deadline: cut the upstream it waits for (the client gets a 504), or the idle client."""
        self.timed_out = True
        target = self.upstream.writer if self.upstream is not None else self.writer
        target.transport.abort()


class HttpRouter(BuiltinRouter):
    def __init__(self, service: str, host: str, port: int, ports: dict[str, int] | None = None) -> None:
        super().__init__(service, host, port, ports)
        self._idle: dict[Upstream, list[_Upconn]] = {}
        self._clients: set[_Client] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self.retried = 0  # requests sent again after a reused upstream connection failed

    async def _listen(self) -> asyncio.Server:
        server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True, limit=http1.MAX_HEAD
        )
        self._watchdog = asyncio.create_task(self._watch(), name=f"http-router-watchdog:{self.service}")
        return server

    async def _watch(self) -> None:
        """Timeouts for every client connection at once: a deadline per connection
        moved forward as it makes progress, checked here every :data:`WATCH_S`
        (cheaper than a timer per read: the proxy reads twice per request)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_S)
            now = loop.time()
            for c in [c for c in self._clients if c.deadline < now]:
                c.expire()

    async def retire(self, slot: str) -> None:
        """Close the slot's idle upstream connections (nothing is in flight on it any more)."""
        for up in [u for u in self._idle if u.slot == slot]:
            for c in self._idle.pop(up):
                c.close()

    async def stop(self) -> None:
        await super().stop()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        for slot in ("blue", "green"):
            await self.retire(slot)

    # upstream pool -------------------------------------------------------------
    def _pooled(self, up: Upstream) -> _Upconn | None:
        """An idle connection to ``up`` that still looks open, if there is one."""
        idle = self._idle.get(up)
        while idle:
            c = idle.pop()
            if not c.reader.at_eof() and not c.writer.is_closing():
                return c
            c.close()
        return None

    async def _connect(self, up: Upstream) -> _Upconn:
        """:raises OSError, TimeoutError: cannot connect."""
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection(up.host, up.port, limit=http1.MAX_HEAD)
        return _Upconn(up, reader, writer)

    def _release(self, c: _Upconn) -> None:
        idle = self._idle.setdefault(c.up, [])
        if len(idle) < MAX_IDLE_PER_SLOT and not c.writer.is_closing() and c.up == self.slots.get(c.up.slot):
            idle.append(c)
        else:
            c.close()

    # client side ---------------------------------------------------------------
    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        client = _Client(client_r, client_w, _Conn(), asyncio.get_running_loop().time() + IDLE_TIMEOUT)
        self._clients.add(client)
        try:
            if not await self._admit(client.toxics, client_r, client_w):
                return
            self.accepted += 1
            while await self._serve_one(client):
                pass
        except (ConnectionError, OSError, _ClientGone):
            pass
        finally:
            self._clients.discard(client)
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                client_w.close()

    async def _serve_one(self, client: _Client) -> bool:
        """Read one request and answer it; True when the client connection stays open."""
        loop = asyncio.get_running_loop()
        client.deadline = loop.time() + IDLE_TIMEOUT
        try:
            raw = await http1.read_head(client.reader)
            if not raw or client.timed_out:
                return False
            req = http1.parse_request(raw)
        except BadMessage as exc:
            log.debug("%s: refused a request: %s", self.service, exc)
            await _reply(client.writer, 400, close=True)
            return False
        up = self._pick()
        if up is None:
            await _reply(client.writer, 503, close=True)
            return False
        slot = up.slot
        self.active[slot] += 1  # taken before any await: a drain sees this request
        started = loop.time()
        client.deadline = started + IO_TIMEOUT
        code = 0
        try:
            code, keep = await self._exchange(client, req, up)
            return keep
        finally:
            client.upstream = None
            self.active[slot] -= 1
            if code:
                self.requests.observe(slot, code, loop.time() - started)

    async def _exchange(self, client: _Client, req: Request, up: Upstream) -> tuple[int, bool]:
        """Forward ``req`` and its answer; (status sent to the client or 0, client stays open)."""
        first = True
        while True:
            c = self._pooled(up)
            reused = c is not None
            if c is None:
                try:
                    c = await self._connect(up)
                except (OSError, TimeoutError) as exc:
                    self.failed += 1
                    log.warning(
                        "%s: cannot reach the %s slot at %s:%d: %s", self.service, up.slot, up.host, up.port, exc
                    )
                    return await _fail(client.writer, 502, req, close=req.framing is not Framing.NONE)
            client.upstream = c
            try:
                if req.framing is Framing.NONE and not self.toxics:  # the common case, inline: no body to send
                    try:
                        c.writer.write(_request_head(req))
                        raw = await http1.read_head(c.reader)
                    except (ConnectionError, OSError) as exc:
                        raise _UpstreamFailed(f"{type(exc).__name__}: {exc}", req.method in http1.IDEMPOTENT) from None
                    except BadMessage as exc:  # some bytes of an answer came: never sent again
                        raise _UpstreamFailed(str(exc), False) from None
                    resp = _parse_answer(raw, req)
                else:
                    resp = await self._send(client, req, c)
                break
            except _UpstreamFailed as exc:
                c.close()
                if client.timed_out:
                    self.failed += 1
                    return await _fail(client.writer, 504, req, close=True)
                if first and reused and exc.retry:
                    first = False
                    self.retried += 1
                    continue
                self.failed += 1
                log.info("%s: the %s slot failed a request: %s", self.service, up.slot, exc)
                return await _fail(client.writer, 502, req, close=not exc.retry and req.framing is not Framing.NONE)
        if resp.framing is Framing.LENGTH and resp.length <= INLINE_BODY and resp.status >= 200 and not self.toxics:
            # the common answer, inline: a small body by length, written with its head
            keep = req.keep_alive and not (req.expect_continue and req.framing is not Framing.NONE)
            try:
                body = await c.reader.readexactly(resp.length)
            except asyncio.IncompleteReadError as exc:
                self._broke_off(client, c, exc)
            w = client.writer
            w.write(_response_head(req, resp, keep) + body)
            if w.transport.get_write_buffer_size():
                await w.drain()
            if resp.keep_alive and keep:
                self._release(c)
            else:
                c.close()
            return resp.status, keep
        return await self._answer(client, req, resp, c)

    async def _send(self, client: _Client, req: Request, c: _Upconn) -> Response:
        """Write the request upstream and read the head of its (final or 101) answer.

        :raises _UpstreamFailed: the upstream failed before any byte of the answer.
        :raises _ClientGone: the client's body broke off.
        """
        head = _request_head(req)
        retry = req.method in http1.IDEMPOTENT and req.framing is Framing.NONE
        try:
            if req.framing is Framing.NONE:
                await self._write(client, "up", c.writer, head)
            elif req.framing is Framing.LENGTH and req.length <= INLINE_BODY and not req.expect_continue:
                try:
                    body = await client.reader.readexactly(req.length)
                except asyncio.IncompleteReadError:
                    raise _ClientGone() from None
                await self._write(client, "up", c.writer, head + body)
            else:
                await self._write(client, "up", c.writer, head)
                if not req.expect_continue:
                    await self._copy_body(client, req, c.writer)
            raw = await http1.read_head(c.reader)
        except (ConnectionError, OSError) as exc:
            raise _UpstreamFailed(f"{type(exc).__name__}: {exc}", retry) from None
        except BadMessage as exc:  # some bytes of an answer came: never sent again
            raise _UpstreamFailed(str(exc), False) from None
        return _parse_answer(raw, req)

    async def _answer(self, client: _Client, req: Request, resp: Response, c: _Upconn) -> tuple[int, bool]:
        """Pass the answer (interim ones first) to the client; return the status and whether the client stays open."""
        body_pending = req.expect_continue and req.framing is not Framing.NONE
        while resp.status < 200 and resp.status != 101:
            await self._write(client, "down", client.writer, resp.raw)
            if body_pending and resp.status == 100:
                await self._copy_body(client, req, c.writer)
                body_pending = False
            resp = await _next_head(c, req)
        if (resp.status == 101 and req.upgrade) or (req.method == b"CONNECT" and 200 <= resp.status < 300):
            # a raw tunnel from now on, counted in flight (its slot is not drained under it) until it ends
            await self._write(client, "down", client.writer, _response_head(req, resp, keep=True))
            client.deadline = math.inf
            await self._pipe_both(client.toxics, client.reader, client.writer, c.reader, c.writer)
            return resp.status, False
        dechunk = req.minor == 0 and resp.framing is Framing.CHUNKED
        keep = req.keep_alive and not body_pending and resp.framing is not Framing.CLOSE and not dechunk
        await self._relay_body(client, resp, c, _response_head(req, resp, keep), dechunk)
        if resp.keep_alive and not body_pending:
            self._release(c)
        else:
            c.close()
        return resp.status, keep

    async def _relay_body(self, client: _Client, resp: Response, c: _Upconn, head: bytes, dechunk: bool) -> None:
        """The response head and body to the client. An upstream that breaks off
        mid-body has the client connection reset: a cut answer never looks whole.

        :raises _ClientGone: the client went away.
        """
        try:
            if resp.framing is Framing.LENGTH and resp.length <= INLINE_BODY:
                head += await c.reader.readexactly(resp.length)
                resp.framing = Framing.NONE
            await self._write(client, "down", client.writer, head)
            if resp.framing is not Framing.NONE:
                await self._copy_message(client, "down", resp, c.reader, client.writer, framed=not dechunk)
        except (asyncio.IncompleteReadError, BadMessage) as exc:
            self._broke_off(client, c, exc)

    def _broke_off(self, client: _Client, c: _Upconn, exc: Exception) -> NoReturn:
        """The upstream broke off mid-answer: reset the client, whose answer cannot be made whole."""
        c.close()
        log.info("%s: the %s slot broke off a response: %s", self.service, c.up.slot, exc)
        client.writer.transport.abort()
        raise _ClientGone() from None

    async def _copy_body(self, client: _Client, req: Request, dst: asyncio.StreamWriter) -> None:
        """The request's body from the client to the upstream. :raises _ClientGone:"""
        try:
            await self._copy_message(client, "up", req, client.reader, dst)
        except (asyncio.IncompleteReadError, BadMessage):
            raise _ClientGone() from None

    async def _copy_message(
        self,
        client: _Client,
        direction: str,
        head: http1.Head,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        framed: bool = True,
    ) -> None:
        loop = asyncio.get_running_loop()

        async def sink(data: bytes) -> None:
            client.deadline = loop.time() + IO_TIMEOUT  # progress
            await self._write(client, direction, dst, data)

        if head.framing is Framing.LENGTH:
            await http1.copy_length(src, head.length, sink)
        elif head.framing is Framing.CHUNKED:
            await http1.copy_chunked(src, sink, framed)
        elif head.framing is Framing.CLOSE:
            await http1.copy_until_close(src, sink)

    async def _write(self, client: _Client, direction: str, dst: asyncio.StreamWriter, data: bytes) -> None:
        if self.toxics and not await self._delay(client.toxics, direction, len(data)):
            return
        dst.write(data)
        if dst.transport.get_write_buffer_size():  # what the socket took at once needs no drain
            await dst.drain()


def _parse_answer(raw: bytes, req: Request) -> Response:
    """The head the upstream answered ``req`` with. :raises _UpstreamFailed: none, or a malformed one."""
    if not raw:
        retry = req.method in http1.IDEMPOTENT and req.framing is Framing.NONE
        raise _UpstreamFailed("closed the connection without answering", retry)
    try:
        return http1.parse_response(raw, req.method)
    except BadMessage as exc:
        raise _UpstreamFailed(str(exc), False) from None


async def _next_head(c: _Upconn, req: Request) -> Response:
    """The upstream's next head after an interim (1xx) one. :raises ConnectionResetError:"""
    raw = await http1.read_head(c.reader)
    if not raw:
        raise ConnectionResetError("the upstream closed after an interim response")
    try:
        return http1.parse_response(raw, req.method)
    except BadMessage as exc:
        raise ConnectionResetError(f"the upstream's answer after an interim one: {exc}") from None


def _request_head(req: Request) -> bytes:
    """As received when nothing needs changing, else rebuilt without the
    client's hop-by-hop fields (asking the upstream to keep the connection)."""
    if req.minor == 1 and not req.hop:
        return req.raw
    first = req.raw[: req.raw.index(b"\r\n")]
    if req.upgrade:
        return http1.rebuild(first, req, b"connection: upgrade", keep=frozenset({b"upgrade"}))
    return http1.rebuild(first, req, b"connection: keep-alive" if req.minor == 0 else b"")


def _response_head(req: Request, resp: Response, keep: bool) -> bytes:
    if resp.status == 101:
        first = resp.raw[: resp.raw.index(b"\r\n")]
        return http1.rebuild(first, resp, b"connection: upgrade", keep=frozenset({b"upgrade"}))
    if keep and not resp.hop and req.minor == 1 and resp.minor == 1:
        return resp.raw
    first = resp.raw[: resp.raw.index(b"\r\n")]
    if not keep:
        extra = b"connection: close"
    elif req.minor == 0 or resp.minor == 0:
        extra = b"connection: keep-alive"
    else:
        extra = b""
    return http1.rebuild(first, resp, extra)


async def _reply(writer: asyncio.StreamWriter, status: int, close: bool, head_only: bool = False) -> None:
    """A short plain-text answer of the router's own."""
    reason = _REASONS[status]
    body = b"" if head_only else reason.lower() + b"\n"
    connection = b"close" if close else b"keep-alive"
    writer.write(
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %d\r\nconnection: %s\r\n\r\n%s"
        % (status, reason, len(body), connection, body)
    )
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        async with asyncio.timeout(5.0):
            await writer.drain()


async def _fail(writer: asyncio.StreamWriter, status: int, req: Request, close: bool = False) -> tuple[int, bool]:
    """Answer ``status`` for a request the upstream did not; the client stays
    open when its request was read whole and it wants to."""
    keep = req.keep_alive and not close
    await _reply(writer, status, close=not keep, head_only=req.method == b"HEAD")
    return status, keep
