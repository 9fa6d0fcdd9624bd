"""Running one probe for real: an HTTP request, a TCP connect, a command, a
gRPC health check. Every run is bounded by the probe's timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from switchman.agent.lazy_tls import tls
from switchman.proto.channel import split_host_port
from switchman.proto.probes import Kind, ProbeOutcome, ProbeSpec

MAX_BODY = 64 * 1024


async def run_probe(spec: ProbeSpec) -> ProbeOutcome:
    started = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(_RUNNERS[spec.kind](spec), spec.timeout)
    except TimeoutError:
        return ProbeOutcome(False, time.perf_counter() - started, output=f"timed out after {spec.timeout:g}s")
    except (OSError, ValueError, grpc.aio.AioRpcError, asyncio.IncompleteReadError) as exc:
        return ProbeOutcome(False, time.perf_counter() - started, output=f"{type(exc).__name__}: {exc}"[:500])
    return ProbeOutcome(
        outcome.success, time.perf_counter() - started, outcome.warning, outcome.http_status, outcome.output
    )


def _target(spec: ProbeSpec) -> tuple[str, int, str, bool]:
    """(host, port, path, https) for an http probe."""
    if spec.url:
        u = urlsplit(spec.url)
        https = u.scheme == "https"
        return (
            u.hostname or "127.0.0.1",
            u.port or (443 if https else 80),
            (u.path or "/") + (f"?{u.query}" if u.query else ""),
            https,
        )
    host, port = split_host_port(spec.address)
    return host, port, spec.path or "/", False


async def _http(spec: ProbeSpec) -> ProbeOutcome:
    host, port, path, https = _target(spec)
    ctx = None
    if https:
        ssl = tls()
        ctx = ssl.create_default_context()
        if spec.tls_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
    try:
        headers = {"Host": f"{host}:{port}", "User-Agent": "switchman-probe", "Connection": "close", **spec.headers}
        head = f"{spec.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode())
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            return ProbeOutcome(False, 0.0, output=f"not an HTTP response: {status_line[:80]!r}")
        status = int(parts[1])
        length = -1
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        body = b""
        if spec.method != "HEAD" and (spec.body_contains or spec.body_regex):
            body = await (reader.readexactly(min(length, MAX_BODY)) if length >= 0 else reader.read(MAX_BODY))
    finally:
        writer.close()
    text = body.decode("utf-8", "replace")
    ok = spec.status_min <= status <= spec.status_max
    why = f"HTTP {status}"
    if ok and spec.body_contains and spec.body_contains not in text:
        ok, why = False, f"HTTP {status}, body lacks {spec.body_contains!r}"
    if ok and spec.body_regex and not re.search(spec.body_regex, text):
        ok, why = False, f"HTTP {status}, body does not match {spec.body_regex!r}"
    return ProbeOutcome(ok, 0.0, http_status=status, output=why)


async def _tcp(spec: ProbeSpec) -> ProbeOutcome:
    host, port = split_host_port(spec.address)
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    return ProbeOutcome(True, 0.0, output=f"connected to {spec.address}")


async def _exec(spec: ProbeSpec) -> ProbeOutcome:
    proc = await asyncio.create_subprocess_exec(
        *spec.command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True
    )
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:  # timed out: the whole process group goes
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        raise
    code = proc.returncode
    text = out[:4096].decode("utf-8", "replace").strip()
    # Consul: 0 passing, 1 warning, anything else critical
    return ProbeOutcome(code == 0, 0.0, warning=code == 1, output=f"exit {code}: {text}"[:500])


async def _grpc(spec: ProbeSpec) -> ProbeOutcome:
    channel = grpc.aio.insecure_channel(spec.address)
    try:
        resp = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=spec.grpc_service), timeout=spec.timeout
        )
    finally:
        await channel.close(None)
    serving = resp.status == health_pb2.HealthCheckResponse.SERVING
    return ProbeOutcome(serving, 0.0, output=health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))


_RUNNERS = {Kind.HTTP: _http, Kind.TCP: _tcp, Kind.EXEC: _exec, Kind.GRPC: _grpc}
