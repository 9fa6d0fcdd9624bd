"""The builtin router: an asyncio TCP proxy on the service's front port.

A flip changes the upstream for *new* connections atomically (one attribute
assignment on the event loop); connections already open finish on the slot
they started on. Active connections are counted per slot so a drain knows
when it is done. :meth:`BuiltinRouter.set_weights` splits new connections
between the two slots instead (smooth weighted round robin, as nginx does).
The http mode (``http_proxy.py``) is a subclass that routes each request.

Chaos faults add *toxics* (toxiproxy's idea): latency and bandwidth act on
every chunk of open and new connections in the chosen direction, errors
reset a share of new connections, a blackhole swallows everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from dataclasses import dataclass, field

from switchman.agent.services.routers.requests import RequestStats, SlotRequests

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Toxic:
    kind: str  # latency | errors | blackhole | bandwidth
    latency_s: float = 0.0
    jitter_s: float = 0.0
    stream: str = "both"  # up (client -> service) | down | both
    probability: float = 1.0
    rate_bytes_s: float = 0.0

    def acts_on(self, direction: str) -> bool:
        return self.stream in ("both", direction)


@dataclass
class _Conn:
    """Which toxics this connection drew (``probability`` is per connection)."""

    affected: dict[str, bool] = field(default_factory=dict)

    def hit(self, toxic_id: str, toxic: Toxic) -> bool:
        if toxic_id not in self.affected:
            self.affected[toxic_id] = random.random() < toxic.probability
        return self.affected[toxic_id]


@dataclass(frozen=True)
class Upstream:
    slot: str
    host: str
    port: int


class BuiltinRouter:
    def __init__(self, service: str, host: str, port: int, ports: dict[str, int] | None = None) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.upstream: Upstream | None = None
        # the slots' addresses, for weights: from the spec's back ports, and from every flip
        self.slots: dict[str, Upstream] = {s: Upstream(s, host, p) for s, p in (ports or {}).items()}
        self.weights: dict[str, int] | None = None  # None: everything goes to ``upstream``
        self._credit: dict[str, int] = {}  # smooth weighted round robin's running weights
        self.active: dict[str, int] = {"blue": 0, "green": 0}
        self.accepted = 0
        self.failed = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.toxics: dict[str, Toxic] = {}  # fault id -> toxic
        self.requests = RequestStats()  # counted in http mode only

    def add_toxic(self, fault_id: str, toxic: Toxic) -> None:
        self.toxics[fault_id] = toxic

    def remove_toxic(self, fault_id: str) -> bool:
        return self.toxics.pop(fault_id, None) is not None

    def _has(self, kind: str) -> bool:
        return any(t.kind == kind for t in self.toxics.values())

    async def start(self) -> None:
        try:
            self._server = await self._listen()
        except OSError as exc:
            from switchman.agent.services.errors import InvalidService

            raise InvalidService(
                f"service {self.service}: cannot listen on front port {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)

    @property
    def active_slot(self) -> str | None:
        return self.upstream.slot if self.upstream else None

    async def flip(self, slot: str, host: str, port: int) -> None:
        up = Upstream(slot, host, port)
        self.slots[slot] = up
        self.weights = None
        self.upstream = up  # one assignment: atomic for new connections

    async def set_weights(self, blue: int, green: int) -> None:
        """Split new connections (http mode: requests) between the slots, ``blue``
        to ``green``, each 0..100; :meth:`flip` ends the split.

        :raises InvalidService: a weight out of range, both 0, or a weighted slot whose address is unknown.
        """
        weights = check_weights(self.service, blue, green)
        for slot, w in weights.items():
            if w and slot not in self.slots:
                from switchman.agent.services.errors import InvalidService

                raise InvalidService(f"service {self.service}: the {slot} slot's address is unknown")
        self._credit = dict.fromkeys(weights, 0)
        self.weights = weights

    def _pick(self) -> Upstream | None:
        """Where the next connection (or request) goes."""
        weights = self.weights
        if weights is None:
            return self.upstream
        credit = self._credit
        best = ""
        for slot, w in weights.items():
            credit[slot] += w
            if not best or credit[slot] > credit[best]:
                best = slot
        credit[best] -= sum(weights.values())
        return self.slots[best]

    def connections(self, slot: str) -> int:
        return self.active.get(slot, 0)

    def label(self, slot: str, version: str) -> None:
        self.requests.label(slot, version)

    def request_stats(self) -> list[SlotRequests]:
        return self.requests.snapshot()

    async def refresh(self) -> None:
        """Counts are kept live; nothing to fetch."""

    async def retire(self, slot: str) -> None:
        """Nothing to do: the proxy sends no new connections to a slot it is not pointed at."""

    async def detach(self) -> None:
        await self.stop()  # the proxy lives in the agent

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._conns):
            t.cancel()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        up = self._pick()  # read once: this connection stays on this slot
        conn = _Conn()
        try:
            if up is None or not await self._admit(conn, client_r, client_w):
                return
            self.accepted += 1
            self.active[up.slot] += 1
            try:
                try:
                    back_r, back_w = await asyncio.wait_for(asyncio.open_connection(up.host, up.port), CONNECT_TIMEOUT)
                except (OSError, TimeoutError) as exc:
                    self.failed += 1
                    log.warning("%s: cannot reach %s slot at %s:%d: %s", self.service, up.slot, up.host, up.port, exc)
                    return
                await self._pipe_both(conn, client_r, client_w, back_r, back_w)
            finally:
                self.active[up.slot] -= 1
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                client_w.close()

    async def _admit(self, conn: _Conn, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> bool:
        """The connection-level toxics: False when a blackhole swallowed it or an error reset it."""
        if not self.toxics:
            return True
        if self._has("blackhole"):
            await _swallow(client_r)
            return False
        if any(t.kind == "errors" and conn.hit(i, t) for i, t in list(self.toxics.items())):
            _reset(client_w)
            return False
        return True

    async def _delay(self, conn: _Conn, direction: str, size: int) -> bool:
        """Apply this direction's toxics to one chunk; False when it must be dropped (blackhole)."""
        delay = 0.0
        for i, t in list(self.toxics.items()):
            if not t.acts_on(direction) and t.kind != "blackhole":
                continue
            if t.kind == "blackhole":
                return False
            if t.kind == "latency" and conn.hit(i, t):
                delay += max(0.0, t.latency_s + random.uniform(-t.jitter_s, t.jitter_s))
            elif t.kind == "bandwidth" and t.rate_bytes_s > 0:
                delay += size / t.rate_bytes_s
        if delay > 0:
            await asyncio.sleep(delay)
        return True

    async def _copy(self, conn: _Conn, direction: str, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError, OSError):  # either side went away: the pipe ends
                while True:
                    limit = min(
                        (int(t.rate_bytes_s) for t in self.toxics.values() if t.kind == "bandwidth"), default=CHUNK
                    )
                    data = await src.read(max(1, min(CHUNK, limit)))
                    if not data:
                        break
                    if self.toxics and not await self._delay(conn, direction, len(data)):
                        continue
                    dst.write(data)
                    await dst.drain()
        finally:
            with contextlib.suppress(Exception):
                if dst.can_write_eof():
                    dst.write_eof()

    async def _pipe_both(
        self,
        conn: _Conn,
        cr: asyncio.StreamReader,
        cw: asyncio.StreamWriter,
        br: asyncio.StreamReader,
        bw: asyncio.StreamWriter,
    ) -> None:
        try:
            await asyncio.gather(self._copy(conn, "up", cr, bw), self._copy(conn, "down", br, cw))
        finally:
            with contextlib.suppress(Exception):
                bw.close()


def check_weights(service: str, blue: int, green: int) -> dict[str, int]:
    """:raises InvalidService: a weight that is not an integer 0..100, or both 0."""
    from switchman.agent.services.errors import InvalidService

    for slot, w in (("blue", blue), ("green", green)):
        if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100:
            raise InvalidService(f"service {service}: weight of {slot}: expected 0..100, got {w!r}")
    if blue == green == 0:
        raise InvalidService(f"service {service}: weights: at least one slot needs a weight above 0")
    return {"blue": blue, "green": green}


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Read and drop until the client gives up (its requests time out)."""
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(CHUNK):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST, as a crashed or refusing upstream looks to a client."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
