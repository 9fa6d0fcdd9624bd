"""An HTTP/1.1 service as most are: keep-alive, pipelining, and no drain at
all — SIGTERM's default action kills it at once, cutting whatever it has
open. What the http-mode routers must hide from clients (ADR 0019).

    python tests/keepalive_app.py --version 1 --host 127.0.0.2 --port 18081 [--slot blue]

``GET /`` answers ``hello from VERSION (SLOT)``, ``GET /health`` ``ok``,
``GET /slow`` the same after 200 ms; every answer is kept alive.
"""

from __future__ import annotations

import argparse
import asyncio


class Http(asyncio.Protocol):
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
            if path == b"/slow":
                asyncio.get_running_loop().call_later(0.2, self._send, self.body)
            else:
                self._send(b"ok\n" if path == b"/health" else self.body)

    def _send(self, body: bytes) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )


async def serve(host: str, port: int, body: bytes) -> None:
    server = await asyncio.get_running_loop().create_server(lambda: Http(body), host, port, reuse_address=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--version", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--slot", default="")
    a = p.parse_args()
    asyncio.run(serve(a.host, a.port, f"hello from {a.version} ({a.slot})\n".encode()))


if __name__ == "__main__":
    main()
