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
from dataclasses import dataclass

from switchman.agent.services.routers import http1
from switchman.agent.services.routers.builtin import CONNECT_TIMEOUT, BuiltinRouter, Upstream, _Conn
from switchman.agent.services.routers.http1 import BadMessage, Framing, Request, Response

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 60.0  # a client connection between requests (HAProxy's `timeout client` in our config)
IO_TIMEOUT = 60.0  # no progress on an exchange for this long ends it
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


class HttpRouter(BuiltinRouter):
    def __init__(self, service: str, host: str, port: int, ports: dict[str, int] | None = None) -> None:
        super().__init__(service, host, port, ports)
        self._idle: dict[Upstream, list[_Upconn]] = {}
        self.retried = 0  # requests sent again after a reused upstream connection failed

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True, limit=http1.MAX_HEAD)

    async def retire(self, slot: str) -> None:
        """Close the slot's idle upstream connections (nothing is in flight on it any more)."""
        for up in [u for u in self._idle if u.slot == slot]:
            for c in self._idle.pop(up):
                c.close()

    async def stop(self) -> None:
        await super().stop()
        for slot in ("blue", "green"):
            await self.retire(slot)

    # upstream pool -------------------------------------------------------------
    async def _acquire(self, up: Upstream) -> tuple[_Upconn, bool]:
        """An idle connection to ``up`` (reused: True) or a new one.

        :raises OSError, TimeoutError: cannot connect.
        """
        idle = self._idle.get(up)
        while idle:
            c = idle.pop()
            if not c.reader.at_eof() and not c.writer.is_closing():
                return c, True
            c.close()
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection(up.host, up.port, limit=http1.MAX_HEAD)
        return _Upconn(up, reader, writer), False

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
        conn = _Conn()
        try:
            if not await self._admit(conn, client_r, client_w):
                return
            self.accepted += 1
            while await self._serve_one(conn, client_r, client_w):
                pass
        except (ConnectionError, OSError, _ClientGone):
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                client_w.close()

    async def _serve_one(self, conn: _Conn, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; True when the client connection stays open."""
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                raw = await http1.read_head(client_r)
            if not raw:
                return False
            req = http1.parse_request(raw)
        except TimeoutError:
            return False
        except BadMessage as exc:
            log.debug("%s: refused a request: %s", self.service, exc)
            await _reply(client_w, 400, close=True)
            return False
        up = self._pick()
        if up is None:
            await _reply(client_w, 503, close=True)
            return False
        slot = up.slot
        self.active[slot] += 1  # taken before any await: a drain sees this request
        loop = asyncio.get_running_loop()
        started = loop.time()
        code = 0
        try:
            code, keep = await self._exchange(conn, req, up, client_r, client_w)
            return keep
        finally:
            self.active[slot] -= 1
            if code:
                self.requests.observe(slot, code, loop.time() - started)

    async def _exchange(
        self, conn: _Conn, req: Request, up: Upstream, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> tuple[int, bool]:
        """Forward ``req`` and its answer; (status sent to the client or 0, client stays open)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(IO_TIMEOUT) as deadline:
                first = True
                while True:
                    try:
                        c, reused = await self._acquire(up)
                    except (OSError, TimeoutError) as exc:
                        self.failed += 1
                        log.warning(
                            "%s: cannot reach the %s slot at %s:%d: %s", self.service, up.slot, up.host, up.port, exc
                        )
                        return await _fail(client_w, 502, req, close=req.framing is not Framing.NONE)
                    try:
                        resp = await self._send(conn, req, c, client_r, deadline)
                        break
                    except _UpstreamFailed as exc:
                        c.close()
                        if first and reused and exc.retry:
                            first = False
                            self.retried += 1
                            continue
                        self.failed += 1
                        log.info("%s: the %s slot failed a request: %s", self.service, up.slot, exc)
                        return await _fail(client_w, 502, req, close=not exc.retry and req.framing is not Framing.NONE)
                deadline.reschedule(loop.time() + IO_TIMEOUT)
                return await self._answer(conn, req, resp, c, client_r, client_w, deadline)
        except TimeoutError:
            self.failed += 1
            return await _fail(client_w, 504, req, close=True)

    async def _send(
        self,
        conn: _Conn,
        req: Request,
        c: _Upconn,
        client_r: asyncio.StreamReader,
        deadline: asyncio.Timeout,
    ) -> Response:
        """Write the request upstream and read the head of its (final or 101) answer.

        :raises _UpstreamFailed: the upstream failed before any byte of the answer.
        :raises _ClientGone: the client's body broke off.
        """
        head = _request_head(req)
        retry = req.method in http1.IDEMPOTENT and req.framing is Framing.NONE
        try:
            if req.framing is Framing.LENGTH and req.length <= INLINE_BODY and not req.expect_continue:
                try:
                    body = await client_r.readexactly(req.length)
                except asyncio.IncompleteReadError:
                    raise _ClientGone() from None
                await self._write(conn, "up", c.writer, head + body)
            else:
                await self._write(conn, "up", c.writer, head)
                if req.framing is not Framing.NONE and not req.expect_continue:
                    await self._copy_body(conn, "up", req, client_r, c.writer, deadline)
            raw = await http1.read_head(c.reader)
        except (ConnectionError, OSError) as exc:
            raise _UpstreamFailed(f"{type(exc).__name__}: {exc}", retry) from None
        except BadMessage as exc:  # some bytes of an answer came: never sent again
            raise _UpstreamFailed(str(exc), False) from None
        if not raw:
            raise _UpstreamFailed("closed the connection without answering", retry)
        try:
            resp = http1.parse_response(raw, req.method)
        except BadMessage as exc:
            raise _UpstreamFailed(str(exc), False) from None
        return resp

    async def _answer(
        self,
        conn: _Conn,
        req: Request,
        resp: Response,
        c: _Upconn,
        client_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        deadline: asyncio.Timeout,
    ) -> tuple[int, bool]:
        """Pass the answer (interim ones first) to the client; return the status and whether both stay open."""
        body_pending = req.expect_continue and req.framing is not Framing.NONE
        while resp.status < 200 and resp.status != 101:
            await self._write(conn, "down", client_w, resp.raw)
            if body_pending and resp.status == 100:
                await self._copy_body(conn, "up", req, client_r, c.writer, deadline)
                body_pending = False
            try:
                resp = await self._next_head(c, req)
            except BadMessage as exc:
                raise ConnectionResetError(f"the upstream's answer after {resp.status}: {exc}") from None
        if (resp.status == 101 and req.upgrade) or (req.method == b"CONNECT" and 200 <= resp.status < 300):
            # a raw tunnel from now on, counted in flight (its slot is not drained under it) until it ends
            await self._write(conn, "down", client_w, _response_head(req, resp, keep=True))
            deadline.reschedule(None)
            await self._pipe_both(conn, client_r, client_w, c.reader, c.writer)
            return resp.status, False
        keep = req.keep_alive and not body_pending and resp.framing is not Framing.CLOSE
        dechunk = req.minor == 0 and resp.framing is Framing.CHUNKED
        keep = keep and not dechunk
        await self._relay_body(conn, req, resp, c, client_w, _response_head(req, resp, keep), dechunk, deadline)
        if resp.keep_alive and not body_pending:
            self._release(c)
        else:
            c.close()
        return resp.status, keep

    async def _next_head(self, c: _Upconn, req: Request) -> Response:
        raw = await http1.read_head(c.reader)
        if not raw:
            raise ConnectionResetError("the upstream closed after an interim response")
        return http1.parse_response(raw, req.method)

    async def _relay_body(
        self,
        conn: _Conn,
        req: Request,
        resp: Response,
        c: _Upconn,
        client_w: asyncio.StreamWriter,
        head: bytes,
        dechunk: bool,
        deadline: asyncio.Timeout,
    ) -> None:
        """The response head and body to the client. An upstream that breaks off
        mid-body has the client connection reset: a cut answer never looks whole.

        :raises _ClientGone: the client went away.
        """
        try:
            if resp.framing is Framing.LENGTH and resp.length <= INLINE_BODY:
                head += await c.reader.readexactly(resp.length)
                resp.framing = Framing.NONE
            await self._write(conn, "down", client_w, head)
            if resp.framing is not Framing.NONE:
                await self._copy_message(conn, "down", resp, c.reader, client_w, deadline, framed=not dechunk)
        except (asyncio.IncompleteReadError, BadMessage) as exc:
            c.close()
            log.info("%s: the %s slot broke off a response: %s", self.service, c.up.slot, exc)
            client_w.transport.abort()
            raise _ClientGone() from None

    async def _copy_body(
        self,
        conn: _Conn,
        direction: str,
        req: Request,
        client_r: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        deadline: asyncio.Timeout,
    ) -> None:
        try:
            await self._copy_message(conn, direction, req, client_r, dst, deadline)
        except (asyncio.IncompleteReadError, BadMessage):
            raise _ClientGone() from None

    async def _copy_message(
        self,
        conn: _Conn,
        direction: str,
        head: http1.Head,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        deadline: asyncio.Timeout,
        framed: bool = True,
    ) -> None:
        loop = asyncio.get_running_loop()

        async def sink(data: bytes) -> None:
            deadline.reschedule(loop.time() + IO_TIMEOUT)
            await self._write(conn, direction, dst, data)

        if head.framing is Framing.LENGTH:
            await http1.copy_length(src, head.length, sink)
        elif head.framing is Framing.CHUNKED:
            await http1.copy_chunked(src, sink, framed)
        elif head.framing is Framing.CLOSE:
            await http1.copy_until_close(src, sink)

    async def _write(self, conn: _Conn, direction: str, dst: asyncio.StreamWriter, data: bytes) -> None:
        if self.toxics and not await self._delay(conn, direction, len(data)):
            return
        dst.write(data)
        await dst.drain()


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
