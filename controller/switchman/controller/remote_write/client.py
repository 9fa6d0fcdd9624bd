"""POSTing one remote-write body, and what the answer means for it: sent
(2xx), retry (5xx, 429, a connection error or a timeout) or refused for good
(any other status). The queue takes a :data:`Post`: a plain async function,
so tests hand it their own."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiohttp
from switchman.controller import __version__
from switchman.controller.remote_write.config import Endpoint

USER_AGENT = f"switchman-controller/{__version__}"


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    detail: str = ""  # status and the start of the body, or the connection error


Post = Callable[[bytes], Awaitable[Answer]]


def classify(status: int, body: str) -> Answer:
    detail = f"HTTP {status}: {body.strip()[:300]}" if body.strip() else f"HTTP {status}"
    if 200 <= status < 300:
        return Answer(Outcome.SENT)
    if status >= 500 or status == 429:
        return Answer(Outcome.RETRY, detail)
    return Answer(Outcome.REFUSED, detail)


def tls_context(e: Endpoint) -> ssl.SSLContext | None:
    """Blocking (reads the files). None for plain http.

    :raises OSError: a file that cannot be read or used, naming the endpoint and the key."""
    if not e.url.startswith("https://"):
        return None
    try:
        ctx = ssl.create_default_context(cafile=e.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise OSError(f"remote_write {e.name}: key 'ca_file': {e.ca_file}: {exc}") from None
    if e.cert_file:
        try:
            ctx.load_cert_chain(e.cert_file, e.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise OSError(f"remote_write {e.name}: keys 'cert_file', 'key_file': {exc}") from None
    if e.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def authorization(e: Endpoint) -> str:
    """Blocking: the Authorization header, the secret files read now (they may be rotated)."""
    if e.bearer_token_file:
        return "Bearer " + Path(e.bearer_token_file).read_text().strip()
    if e.basic_auth is not None:
        password = Path(e.basic_auth.password_file).read_text().strip()
        return "Basic " + base64.b64encode(f"{e.basic_auth.username}:{password}".encode()).decode()
    return ""


class HttpClient:
    """One endpoint's HTTP session (owned: :meth:`close` it)."""

    def __init__(self, endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
        self.endpoint = endpoint
        self._session = session

    @classmethod
    async def open(cls, endpoint: Endpoint) -> HttpClient:
        """:raises OSError: a TLS file that cannot be read."""
        ctx = await asyncio.to_thread(tls_context, endpoint)
        connector = aiohttp.TCPConnector(ssl=ctx if ctx is not None else True, limit=endpoint.queue.max_shards)
        timeout = aiohttp.ClientTimeout(total=endpoint.timeout_ms / 1000)
        return cls(endpoint, aiohttp.ClientSession(connector=connector, timeout=timeout))

    async def post(self, body: bytes) -> Answer:
        e = self.endpoint
        headers = {
            **e.headers,
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
            "User-Agent": USER_AGENT,
        }
        try:
            auth = await asyncio.to_thread(authorization, e)
        except OSError as exc:
            return Answer(Outcome.RETRY, f"cannot read the credentials: {exc}")
        if auth:
            headers["Authorization"] = auth
        try:
            async with self._session.post(e.url, data=body, headers=headers) as resp:
                text = await resp.text(errors="replace")
                return classify(resp.status, text)
        except TimeoutError:
            return Answer(Outcome.RETRY, f"no answer within {e.timeout_ms / 1000:g}s")
        except (aiohttp.ClientError, OSError) as exc:
            return Answer(Outcome.RETRY, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        await self._session.close()
