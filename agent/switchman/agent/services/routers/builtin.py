"""The builtin router: an asyncio TCP proxy on the service's front port.

A flip changes the upstream for *new* connections atomically (one attribute
assignment on the event loop); connections already open finish on the slot
they started on. Active connections are counted per slot so a drain knows
when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upstream:
    slot: str
    host: str
    port: int


class BuiltinRouter:
    def __init__(self, service: str, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.upstream: Upstream | None = None
        self.active: dict[str, int] = {"blue": 0, "green": 0}
        self.accepted = 0
        self.failed = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)
        except OSError as exc:
            from switchman.agent.services.errors import InvalidService

            raise InvalidService(
                f"service {self.service}: cannot listen on front port {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None

    @property
    def active_slot(self) -> str | None:
        return self.upstream.slot if self.upstream else None

    async def flip(self, slot: str, host: str, port: int) -> None:
        self.upstream = Upstream(slot, host, port)  # one assignment: atomic for new connections

    def connections(self, slot: str) -> int:
        return self.active.get(slot, 0)

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
        up = self.upstream  # read once: this connection stays on this slot
        try:
            if up is None:
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
                await _pipe_both(client_r, client_w, back_r, back_w)
            finally:
                self.active[up.slot] -= 1
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                client_w.close()


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        with contextlib.suppress(ConnectionError, OSError):  # either side went away: the pipe ends
            while True:
                data = await src.read(CHUNK)
                if not data:
                    break
                dst.write(data)
                await dst.drain()
    finally:
        with contextlib.suppress(Exception):
            if dst.can_write_eof():
                dst.write_eof()


async def _pipe_both(
    cr: asyncio.StreamReader, cw: asyncio.StreamWriter, br: asyncio.StreamReader, bw: asyncio.StreamWriter
) -> None:
    try:
        await asyncio.gather(_copy(cr, bw), _copy(br, cw))
    finally:
        with contextlib.suppress(Exception):
            bw.close()
