"""Every probe kind against a real peer on loopback; Consul's semantics."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.state import ProbeState, Status
from switchman.proto.channel import add_health, create_server, listen, set_serving
from switchman.proto.probes import ProbeError, ProbeSpec, parse_probe

from tests.helpers import free_port

APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"


def test_consul_semantics() -> None:
    s = ProbeState(success_before_passing=2, failures_before_critical=3)
    assert s.status is Status.CRITICAL
    assert s.observe(True) is None and s.observe(True) is Status.PASSING
    assert s.observe(False) is None and s.observe(False) is None and s.observe(False) is Status.CRITICAL
    assert s.observe(True, warning=True) is Status.WARNING


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "ftp"}, "kind: expected http, tcp, exec or grpc"),
        ({"kind": "http", "interval": "1s", "timeout": "2s"}, "must not be longer than interval"),
        ({"kind": "exec"}, "needs a non-empty list"),
        ({"kind": "http", "status": "2xx"}, "status: expected a code or a range"),
        ({"kind": "http", "body_regex": "("}, "body_regex"),
        ({"kind": "tcp", "frequency": "1s"}, "unknown field(s) frequency"),
        ({"kind": "tcp", "success_before_passing": 0}, "from 1 to 100"),
        ({"kind": "tcp"}, "address: a tcp probe needs address"),
    ],
)
def test_bad_probe_specs_name_the_field(table: dict[str, object], message: str) -> None:
    with pytest.raises(ProbeError) as e:
        parse_probe(table, "agent.toml: probe #1")
    assert message in str(e.value) and str(e.value).startswith("agent.toml: probe #1")


def unbound(table: dict[str, object]) -> ProbeSpec:
    """A probe spec to be aimed at a target with ``.bound(address)``."""
    return parse_probe(table, needs_target=False)


def test_http_tcp_exec_and_grpc_probes_against_real_peers(tmp_path: Path) -> None:
    async def body() -> None:
        port = free_port()
        app = await asyncio.create_subprocess_exec(
            sys.executable, str(APP), "--version", "7", "--port", str(port), stdout=asyncio.subprocess.PIPE
        )
        await app.stdout.readline()
        try:
            addr = f"127.0.0.1:{port}"
            ok = await run_probe(unbound({"kind": "http", "path": "/health", "timeout": "1s"}).bound(addr))
            assert ok.success and ok.http_status == 200 and ok.duration_s > 0
            body_ok = await run_probe(
                unbound({"kind": "http", "path": "/", "body_contains": "hello from 7"}).bound(addr)
            )
            assert body_ok.success
            wrong = await run_probe(unbound({"kind": "http", "path": "/", "body_regex": "from [89]"}).bound(addr))
            assert not wrong.success and "does not match" in wrong.output
            status = await run_probe(unbound({"kind": "http", "path": "/", "status": "500-599"}).bound(addr))
            assert not status.success and status.http_status == 200
            assert (await run_probe(unbound({"kind": "tcp"}).bound(addr))).success
        finally:
            app.terminate()
            try:
                await asyncio.wait_for(app.wait(), 20)  # it drains for at most --grace (10 s)
            except TimeoutError:
                app.kill()
                raise AssertionError("the sample app did not exit on SIGTERM") from None
        closed = await run_probe(unbound({"kind": "tcp"}).bound(f"127.0.0.1:{port}"))
        assert not closed.success and ("refused" in closed.output.lower() or "connect" in closed.output.lower())

        for code, success, warning in ((0, True, False), (1, False, True), (2, False, False)):
            r = await run_probe(unbound({"kind": "exec", "command": ["sh", "-c", f"echo out; exit {code}"]}))
            assert (r.success, r.warning) == (success, warning) and "out" in r.output
        slow = await run_probe(
            unbound({"kind": "exec", "command": ["sleep", "5"], "interval": "1s", "timeout": "200ms"})
        )
        assert not slow.success and "timed out" in slow.output and slow.duration_s < 1

        server = create_server()
        health = add_health(server)
        gport = listen(server, "127.0.0.1:0", None)
        await server.start()
        grpc_probe = unbound({"kind": "grpc", "grpc_service": "svc"}).bound(f"127.0.0.1:{gport}")
        await set_serving(health, True, ["svc"])
        assert (await run_probe(grpc_probe)).success
        await set_serving(health, False, ["svc"])
        r = await run_probe(grpc_probe)
        assert not r.success and r.output == "NOT_SERVING"
        await server.stop(0)

    asyncio.run(asyncio.wait_for(body(), 60))
