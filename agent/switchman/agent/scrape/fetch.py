"""One scrape over HTTP/1.0 on asyncio streams: no worker thread is held
while a slow target answers, and the connection closes after the body."""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.parse
from typing import TYPE_CHECKING

from switchman.agent.lazy_tls import tls

if TYPE_CHECKING:
    import ssl

ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
MAX_BODY = 64 * 1024 * 1024


class ScrapeFailed(Exception):
    """The target did not answer with a 200 and a body; the message says why (Prometheus' ``lastError``)."""


async def fetch(url: str, timeout: float, user_agent: str) -> str:
    """The body of ``GET url``. :raises ScrapeFailed:"""
    parts = urllib.parse.urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {parts.netloc}\r\nAccept: {ACCEPT}\r\nUser-Agent: {user_agent}\r\n"
        f"X-Prometheus-Scrape-Timeout-Seconds: {timeout:g}\r\n\r\n"
    )
    try:
        return await asyncio.wait_for(
            _get(host, port, request, tls().create_default_context() if https else None), timeout
        )
    except TimeoutError:
        raise ScrapeFailed(f'Get "{url}": context deadline exceeded (timeout {timeout:g}s)') from None
    except OSError as exc:  # worded as Prometheus' lastError
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise ScrapeFailed(f'Get "{url}": dial tcp {host}:{port}: connect: {reason}') from None


async def _get(host: str, port: int, request: str, context: ssl.SSLContext | None) -> str:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        writer.write(request.encode("latin-1"))
        await writer.drain()
        chunks: list[bytes] = []
        size = 0
        while chunk := await reader.read(1 << 20):
            size += len(chunk)
            if size > MAX_BODY:
                raise ScrapeFailed(f"body larger than {MAX_BODY} bytes")
            chunks.append(chunk)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not sep:
        raise ScrapeFailed("no HTTP response")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[1].isdigit():
        raise ScrapeFailed(f"bad HTTP status line {status_line!r}")
    if fields[1] != "200":
        raise ScrapeFailed(f"server returned HTTP status {' '.join(fields[1:])}")
    return body.decode("utf-8", errors="replace")
