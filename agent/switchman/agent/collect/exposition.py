"""The local Prometheus endpoint: Prometheus text format 0.0.4, rendered at
scrape time from a fresh reading, served by a small asyncio HTTP handler.

Written by hand rather than with prometheus_client: importing that package
pulls in ``http.server``, ``wsgiref``, ``urllib`` and friends (about 3.5 MiB
of resident memory), which the agent's 45 MiB bar cannot spare (see
docs/adr/0004-agent-exposition-without-prometheus-client.md). The tests
check the output with prometheus_client's own parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterable

from switchman.agent.collect.model import Family

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_S = 5.0


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def _escape_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(families: Iterable[Family]) -> bytes:
    out: list[str] = []
    for fam in families:
        if not fam.samples:
            continue
        help_text = fam.help.replace("\\", "\\\\").replace("\n", "\\n")
        out.append(f"# HELP {fam.name} {help_text}\n# TYPE {fam.name} {fam.kind}\n")
        for name, labels, value in fam.named():
            if labels:
                inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
                out.append(f"{name}{{{inner}}} {_value(value)}\n")
            else:
                out.append(f"{name} {_value(value)}\n")
    return "".join(out).encode()


class MetricsServer:
    """``GET /metrics`` on an asyncio server; ``read`` runs in a thread per scrape."""

    def __init__(self, read: Callable[[], Awaitable[list[Family]]]) -> None:
        self._read = read
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port, limit=MAX_REQUEST_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
            method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method not in ("GET", "HEAD"):
                await self._respond(writer, 405, b"method not allowed\n", "text/plain")
            elif path == "/metrics":
                body = render(await self._read())
                await self._respond(writer, 200, body if method == "GET" else b"", CONTENT_TYPE, len(body))
            elif path == "/":
                await self._respond(
                    writer, 200, b'<html><body><a href="/metrics">metrics</a></body></html>\n', "text/html"
                )
            else:
                await self._respond(writer, 404, b"not found\n", "text/plain")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, UnicodeError):
            pass  # a slow, truncated or garbage request: just close
        except Exception:
            log.exception("metrics request failed")
            await self._respond(writer, 500, b"internal error\n", "text/plain")
        finally:
            writer.close()

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str, length: int | None = None
    ) -> None:
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT_S)
