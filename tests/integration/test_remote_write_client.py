"""The remote-write HTTP client against a real HTTPS server on loopback
(aiohttp, a CA and certificates from ``switchman certs``' PKI code): the
protocol's headers, bearer and basic auth read from their files, the
client certificate, and what each kind of answer means."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from switchman.cli.pki import init_ca, issue
from switchman.controller.remote_write.client import USER_AGENT, HttpClient, Outcome
from switchman.controller.remote_write.config import Endpoint, parse_endpoints
from switchman.controller.remote_write.encode import SeriesBatch, decode, encode

from tests.helpers import free_port, in_own_loop


@dataclass
class Seen:
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # answers to give, then 204


@asynccontextmanager
async def receiver(pki: Path, seen: Seen) -> AsyncIterator[str]:
    """An HTTPS server that requires a client certificate from the PKI's CA."""

    async def write(request: web.Request) -> web.Response:
        seen.headers.append(dict(request.headers))
        seen.bodies.append(await request.read())
        status = seen.status.pop(0) if seen.status else 204
        return web.Response(status=status, text="" if status == 204 else f"answer {status}")

    app = web.Application()
    app.router.add_post("/api/v1/write", write)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.pem"))
    ctx.load_cert_chain(pki / "controller" / "cert.pem", pki / "controller" / "key.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ctx).start()
    try:
        yield f"https://127.0.0.1:{port}/api/v1/write"
    finally:
        await runner.cleanup()


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    init_ca(tmp_path / "pki", [])
    issue(tmp_path / "pki", "agent", "remote-writer", [])
    return tmp_path / "pki"


def endpoint(url: str, pki: Path, **keys: object) -> Endpoint:
    client = pki / "agents" / "remote-writer"
    table = {"url": url, "ca_file": str(pki / "ca.pem"), "cert_file": str(client / "cert.pem")}
    [e] = parse_endpoints([{**table, "key_file": str(client / "key.pem"), **keys}], "c.toml")
    return e


BODY = encode([SeriesBatch((("__name__", "up"), ("job", "node")), [(1000, 1.0)])])


@in_own_loop(30)
async def test_posts_the_protocol_headers_with_bearer_auth_over_mutual_tls(tmp_path: Path, pki: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    seen = Seen()
    async with receiver(pki, seen) as url:
        client = await HttpClient.open(endpoint(url, pki, bearer_token_file=str(token), headers={"X-Org": "a"}))
        assert (await client.post(BODY)).outcome is Outcome.SENT
        token.write_text("rotated")  # read again for each request
        assert (await client.post(BODY)).outcome is Outcome.SENT
        await client.close()
    first, second = seen.headers
    assert first["Content-Encoding"] == "snappy" and first["Content-Type"] == "application/x-protobuf"
    assert first["X-Prometheus-Remote-Write-Version"] == "0.1.0" and first["User-Agent"] == USER_AGENT
    assert first["X-Org"] == "a"
    assert (first["Authorization"], second["Authorization"]) == ("Bearer s3cret", "Bearer rotated")
    assert decode(seen.bodies[0]).timeseries[0].labels[0].value == "up"


@in_own_loop(30)
async def test_basic_auth_and_each_kind_of_answer(tmp_path: Path, pki: Path) -> None:
    password = tmp_path / "password"
    password.write_text("pw")
    seen = Seen(status=[503, 429, 400, 401])
    async with receiver(pki, seen) as url:
        client = await HttpClient.open(
            endpoint(url, pki, basic_auth={"username": "switchman", "password_file": str(password)})
        )
        answers = [await client.post(BODY) for _ in range(5)]
        await client.close()
    assert [a.outcome for a in answers] == [
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.REFUSED,
        Outcome.REFUSED,
        Outcome.SENT,
    ]
    assert answers[2].detail == "HTTP 400: answer 400"
    assert seen.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"switchman:pw").decode()


@in_own_loop(30)
async def test_connection_errors_and_an_untrusted_certificate_are_retried(tmp_path: Path, pki: Path) -> None:
    other = tmp_path / "other"
    init_ca(other, [])
    seen = Seen()
    async with receiver(pki, seen) as url:
        wrong_ca = await HttpClient.open(endpoint(url, pki, ca_file=str(other / "ca.pem")))
        answer = await wrong_ca.post(BODY)
        await wrong_ca.close()
        skip = await HttpClient.open(endpoint(url, pki, ca_file="", insecure_skip_verify=True))
        assert (await skip.post(BODY)).outcome is Outcome.SENT
        await skip.close()
    assert answer.outcome is Outcome.RETRY and "certificate" in answer.detail.lower()
    closed = await HttpClient.open(endpoint(url, pki))
    refused = await closed.post(BODY)
    await closed.close()
    assert refused.outcome is Outcome.RETRY and "connect" in refused.detail.lower()
    assert len(seen.bodies) == 1


@in_own_loop(30)
async def test_a_tls_file_that_cannot_be_read_is_named_at_start(tmp_path: Path, pki: Path) -> None:
    with pytest.raises(OSError, match=r"remote_write 127.0.0.1:1/w: key 'ca_file': .*missing.pem"):
        await HttpClient.open(endpoint("https://127.0.0.1:1/w", pki, ca_file=str(tmp_path / "missing.pem")))
    with pytest.raises(OSError, match=r"keys 'cert_file', 'key_file'"):
        await HttpClient.open(endpoint("https://127.0.0.1:1/w", pki, key_file=str(pki / "ca.pem")))
