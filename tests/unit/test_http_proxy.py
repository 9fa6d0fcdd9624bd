"""The builtin router's http mode against real sockets on loopback: scripted
upstream servers and raw clients, so every byte on the wire is the test's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from switchman.agent.services.errors import InvalidService
from switchman.agent.services.routers import http1
from switchman.agent.services.routers.builtin import BuiltinRouter
from switchman.agent.services.routers.http_proxy import HttpRouter

from tests.helpers import in_own_loop

HOST = "127.0.0.1"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(r: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request, or (b"", b"") at EOF."""
    try:
        head = await r.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b"", b""
    body = b""
    lower = head.lower()
    if b"content-length:" in lower:
        n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        body = await r.readexactly(n)
    elif b"transfer-encoding: chunked" in lower:
        while (size := int((await r.readuntil(b"\r\n")).strip(), 16)) > 0:
            body += await r.readexactly(size)
            await r.readexactly(2)
        await r.readuntil(b"\r\n")
    return head, body


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def named(name: bytes) -> Handler:
    """Answers every request with ``name`` and keeps the connection; ``/slow`` after 300 ms; echoes bodies."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                head, body = await read_request(r)
                if not head:
                    break
                if b" /slow " in head:
                    await asyncio.sleep(0.3)
                if b" /chunked " in head:
                    w.write(
                        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                    )
                elif b" /bye " in head:
                    w.write(ok(name, b"connection: close\r\n"))
                    await w.drain()
                    break
                else:
                    w.write(ok(body or name))
                await w.drain()
        w.close()

    return handle


@contextlib.asynccontextmanager
async def upstream(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, HOST, 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def router(
    blue: Handler | None = None, green: Handler | None = None, cls: type[BuiltinRouter] = HttpRouter
) -> AsyncIterator[tuple[BuiltinRouter, int, int, int]]:
    async with upstream(blue or named(b"blue")) as bp, upstream(green or named(b"green")) as gp:
        r = cls("web", HOST, 0, {"blue": bp, "green": gp})
        await r.start()
        assert r._server is not None
        port = r._server.sockets[0].getsockname()[1]
        await r.flip("blue", HOST, bp)
        try:
            yield r, port, bp, gp
        finally:
            await r.stop()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, port)


async def response(r: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one response by Content-Length, chunks, or close."""
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
    resp = http1.parse_response(head, b"GET")
    parts: list[bytes] = []

    async def sink(data: bytes) -> None:
        parts.append(data)

    if resp.framing is http1.Framing.LENGTH:
        await http1.copy_length(r, resp.length, sink)
    elif resp.framing is http1.Framing.CHUNKED:
        await http1.copy_chunked(r, sink, framed=False)
    elif resp.framing is http1.Framing.CLOSE:
        await http1.copy_until_close(r, sink)
    return head, b"".join(parts)


async def ask(r: asyncio.StreamReader, w: asyncio.StreamWriter, request: bytes) -> tuple[bytes, bytes]:
    w.write(request)
    return await response(r)


GET = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"


@in_own_loop(20)
async def test_a_kept_alive_client_connection_follows_a_flip_and_is_never_cut() -> None:
    async with router() as (rt, port, _, gp):
        r, w = await connect(port)
        assert (await ask(r, w, GET))[1] == b"blue"
        await rt.flip("green", HOST, gp)
        for _ in range(3):
            assert (await ask(r, w, GET))[1] == b"green"
        assert rt.requests.versions == {}
        codes = {(s.slot, code): n for s in rt.request_stats() for code, n in s.codes.items()}
        assert codes == {("blue", "200"): 1, ("green", "200"): 3}
        w.close()


@in_own_loop(20)
async def test_a_drain_waits_for_the_request_in_flight_not_for_the_connection() -> None:
    async with router() as (rt, port, _, gp):
        r, w = await connect(port)
        w.write(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        await asyncio.sleep(0.05)
        assert rt.connections("blue") == 1
        await rt.flip("green", HOST, gp)
        assert rt.connections("blue") == 1  # still answering
        assert (await response(r))[1] == b"blue"
        assert rt.connections("blue") == 0  # the client connection is still open, and idle
        assert (await ask(r, w, GET))[1] == b"green"
        w.close()


@in_own_loop(20)
async def test_pipelined_requests_are_answered_in_order() -> None:
    async with router() as (_, port, _, _):
        r, w = await connect(port)
        w.write(
            b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n"
            b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\none"
            b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
        )
        assert [(await response(r))[1] for _ in range(3)] == [b"blue", b"one", b"two"]
        w.close()


@in_own_loop(20)
async def test_chunked_responses_pass_through_whole() -> None:
    async with router() as (_, port, _, _):
        r, w = await connect(port)
        head, body = await ask(r, w, b"GET /chunked HTTP/1.1\r\nhost: x\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower() and body == b"hello world"
        assert (await ask(r, w, GET))[1] == b"blue"  # and the connection is still usable
        w.close()


@in_own_loop(20)
async def test_connection_close_from_the_client_closes_after_the_response() -> None:
    async with router() as (_, port, _, _):
        r, w = await connect(port)
        head, body = await ask(r, w, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert body == b"blue" and b"connection: close" in head.lower()
        assert await asyncio.wait_for(r.read(), 5) == b""


@in_own_loop(20)
async def test_connection_close_from_the_upstream_closes_only_the_upstream_connection() -> None:
    async with router() as (_, port, _, _):
        r, w = await connect(port)
        head, body = await ask(r, w, b"GET /bye HTTP/1.1\r\nhost: x\r\n\r\n")
        assert body == b"blue" and b"connection" not in head.lower()
        assert (await ask(r, w, GET))[1] == b"blue"
        w.close()


@in_own_loop(20)
async def test_http_1_0_clients_close_unless_they_ask_for_keep_alive() -> None:
    async with router() as (_, port, _, _):
        r, w = await connect(port)
        head, body = await ask(r, w, b"GET / HTTP/1.0\r\n\r\n")
        assert body == b"blue" and b"connection: close" in head.lower()
        assert await asyncio.wait_for(r.read(), 5) == b""
        r, w = await connect(port)
        for _ in range(2):
            head, body = await ask(r, w, b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
            assert body == b"blue" and b"connection: keep-alive" in head.lower()
        w.close()


async def upgrading(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    head, _ = await read_request(r)
    assert b"upgrade: echo" in head.lower() and b"connection: upgrade" in head.lower()
    w.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n")
    while data := await r.read(100):
        w.write(data.upper())
    w.close()


@in_own_loop(20)
async def test_an_upgrade_becomes_a_raw_tunnel_after_the_101() -> None:
    async with router(blue=upgrading) as (rt, port, _, _):
        r, w = await connect(port)
        w.write(b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n")
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101") and b"upgrade: echo" in head.lower()
        w.write(b"not http at all\r\n\r\n")
        assert await asyncio.wait_for(r.readexactly(19), 5) == b"NOT HTTP AT ALL\r\n\r\n"
        assert rt.connections("blue") == 1  # a tunnel is in flight until it ends
        w.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * (http1.MAX_HEAD + 10) + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-n: 1\r\n" * (http1.MAX_HEADERS + 1) + b"\r\n",
        b"GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost : x\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: x\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET /  HTTP/1.1\r\nhost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n",
    ],
    ids=[
        "huge-head",
        "too-many-fields",
        "cl-and-te",
        "two-lengths",
        "space-before-colon",
        "obs-fold",
        "no-host",
        "double-space",
        "tls",
        "te-not-chunked",
    ],
)
def test_bad_requests_get_400_and_the_connection_closes(request_bytes: bytes) -> None:
    @in_own_loop(20)
    async def body() -> None:
        async with router() as (rt, port, _, _):
            r, w = await connect(port)
            w.write(request_bytes)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 400 ")
            rest = await asyncio.wait_for(r.read(), 5)
            assert rest == b"bad request\n"
            assert rt.request_stats() == []  # nothing reached a slot

    body()


async def dies_mid_body(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    await read_request(r)
    w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
    await w.drain()
    w.transport.abort()


@in_own_loop(20)
async def test_an_upstream_dying_mid_response_resets_the_client_instead_of_faking_a_whole_answer() -> None:
    async with router(blue=dies_mid_body) as (_, port, _, _):
        r, w = await connect(port)
        w.write(GET)
        with pytest.raises((asyncio.IncompleteReadError, ConnectionResetError)):
            await response(r)


def racing(served: list[int]) -> Handler:
    """Answers one request per connection, keeping it alive as far as the
    client can tell, then closes on the next one unanswered: its idle timeout
    struck as that request went out."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        head, _ = await read_request(r)
        if head:
            served.append(1)
            w.write(ok(b"blue"))
            await w.drain()
            await read_request(r)
        w.close()

    return handle


@in_own_loop(20)
async def test_an_idempotent_request_on_a_stale_pooled_connection_is_sent_again_once() -> None:
    served: list[int] = []
    async with router(blue=racing(served)) as (rt, port, _, _):
        assert isinstance(rt, HttpRouter)
        r, w = await connect(port)
        assert (await ask(r, w, GET))[1] == b"blue"
        assert (await ask(r, w, GET))[
            1
        ] == b"blue"  # on the pooled connection, which the upstream drops: sent again on a new one
        assert rt.retried == 1 and len(served) == 2
        # a POST is never sent twice: the same race answers 502
        head, _ = await ask(r, w, b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi")
        assert head.startswith(b"HTTP/1.1 502 ") and len(served) == 2 and rt.retried == 1
        w.close()


@in_own_loop(20)
async def test_an_unreachable_slot_is_a_502_and_the_client_may_go_on() -> None:
    async with router() as (rt, port, _, _):
        await rt.flip("blue", HOST, 1)  # nothing listens on port 1
        r, w = await connect(port)
        head, _ = await ask(r, w, GET)
        assert head.startswith(b"HTTP/1.1 502 ") and b"keep-alive" in head
        assert {c: n for s in rt.request_stats() for c, n in s.codes.items()} == {"502": 1}
        w.close()


@in_own_loop(20)
async def test_weights_split_requests_of_one_connection_in_http_mode() -> None:
    async with router() as (rt, port, _, _):
        await rt.set_weights(75, 25)
        r, w = await connect(port)
        seen = {b"blue": 0, b"green": 0}
        for _ in range(100):
            w.write(GET)
            seen[(await response(r))[1]] += 1
        assert seen == {b"blue": 75, b"green": 25}
        await rt.flip("green", HOST, rt.slots["green"].port)  # a flip ends the split
        assert (await ask(r, w, GET))[1] == b"green"
        w.close()


@in_own_loop(20)
async def test_weights_split_connections_in_tcp_mode() -> None:
    async with router(cls=BuiltinRouter) as (rt, port, _, _):
        await rt.set_weights(0, 100)
        r, w = await connect(port)
        assert (await ask(r, w, GET))[1] == b"green"
        await rt.set_weights(50, 50)
        seen = []
        for _ in range(4):
            r2, w2 = await connect(port)
            w2.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            seen.append((await response(r2))[1])
            w2.close()
        assert sorted(seen) == [b"blue", b"blue", b"green", b"green"]
        assert (await ask(r, w, GET))[1] == b"green"  # the first connection stays where it started
        w.close()


@pytest.mark.parametrize("weights", [(101, 0), (-1, 50), (0, 0)])
def test_bad_weights_are_refused(weights: tuple[int, int]) -> None:
    @in_own_loop(10)
    async def body() -> None:
        r = HttpRouter("web", HOST, 0, {"blue": 1, "green": 2})
        with pytest.raises(InvalidService, match="service web: weight"):
            await r.set_weights(*weights)

    body()


@in_own_loop(20)
async def test_request_metrics_are_per_slot_and_version_with_a_histogram() -> None:
    async with router() as (rt, port, _, gp):
        rt.label("blue", "1")
        rt.label("green", "2")
        r, w = await connect(port)
        w.write(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n" + GET)
        await response(r)
        await response(r)
        await rt.flip("green", HOST, gp)
        w.write(GET)
        await response(r)
        stats = {(s.slot, s.version): s for s in rt.request_stats()}
        blue = stats[("blue", "1")]
        assert blue.codes == {"200": 2} and blue.duration is not None and blue.duration.count == 2
        cumulative = dict(blue.duration.cumulative())
        assert cumulative["0.25"] == 1 and cumulative["0.5"] == 2 and cumulative["+Inf"] == 2
        assert blue.duration.sum >= 0.3
        assert stats[("green", "2")].codes == {"200": 1}
        rt.label("blue", "3")  # a new version in the slot starts its own series
        assert {k for k in (s.slot + s.version for s in rt.request_stats())} == {"green2"}
        w.close()


@pytest.mark.parametrize(
    ("head", "framing", "length", "keep_alive"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", http1.Framing.NONE, 0, True),
        (b"POST / HTTP/1.1\r\nHOST: x\r\nContent-Length: 12\r\n\r\n", http1.Framing.LENGTH, 12, True),
        (b"POST / HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", http1.Framing.CHUNKED, 0, True),
        (b"GET / HTTP/1.1\r\nhost: x\r\nConnection: Close\r\n\r\n", http1.Framing.NONE, 0, False),
        (b"GET / HTTP/1.0\r\n\r\n", http1.Framing.NONE, 0, False),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", http1.Framing.NONE, 0, True),
    ],
)
def test_request_framing_and_persistence(head: bytes, framing: http1.Framing, length: int, keep_alive: bool) -> None:
    req = http1.parse_request(head)
    assert (req.framing, req.length, req.keep_alive) == (framing, length, keep_alive)


@pytest.mark.parametrize(
    ("head", "method", "framing", "length", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"GET", http1.Framing.LENGTH, 5, True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"HEAD", http1.Framing.NONE, 0, True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b"GET", http1.Framing.NONE, 0, True),
        (b"HTTP/1.1 200 OK\r\n\r\n", b"GET", http1.Framing.CLOSE, 0, False),
        (b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\n", b"GET", http1.Framing.LENGTH, 1, False),
        (b"HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n", b"GET", http1.Framing.LENGTH, 1, False),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"GET", http1.Framing.CHUNKED, 0, True),
    ],
)
def test_response_framing_and_persistence(
    head: bytes, method: bytes, framing: http1.Framing, length: int, keep_alive: bool
) -> None:
    resp = http1.parse_response(head, method)
    assert (resp.framing, resp.length, resp.keep_alive) == (framing, length, keep_alive)


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nhost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: -1\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\n\r\n".replace(b"1\r\n\r", b"1\n\r"),
        b"GET / HTTP/2.0\r\nhost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\x00b\r\n\r\n",
    ],
)
def test_malformed_requests_are_refused(head: bytes) -> None:
    with pytest.raises(http1.BadMessage):
        http1.parse_request(head)


async def silent(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """Reads requests and never answers."""
    while (await read_request(r))[0]:
        pass
    w.close()


@in_own_loop(20)
async def test_a_silent_upstream_is_a_504_and_an_idle_client_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from switchman.agent.services.routers import http_proxy

    monkeypatch.setattr(http_proxy, "IO_TIMEOUT", 0.3)
    monkeypatch.setattr(http_proxy, "IDLE_TIMEOUT", 0.3)
    monkeypatch.setattr(http_proxy, "WATCH_S", 0.05)
    async with router(blue=silent) as (rt, port, _, _):
        r, w = await connect(port)
        head, _ = await ask(r, w, GET)
        assert head.startswith(b"HTTP/1.1 504 ")
        assert await asyncio.wait_for(r.read(), 5) == b""  # and the client connection closed after it
        r, w = await connect(port)  # a client that sends nothing is closed after the idle timeout
        assert await asyncio.wait_for(r.read(), 5) == b""
        assert rt.connections("blue") == 0
