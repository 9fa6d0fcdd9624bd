"""The controller's services over real gRPC on port 0, with a real SQLite file."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from switchman.controller.daemon import assemble
from switchman.controller.wiring import Controller, ControllerRef, build, settings
from switchman.proto.channel import create_channel, listen, set_serving
from switchman.proto.v1 import common_pb2, controller_pb2, controller_pb2_grpc, ops_pb2, ops_pb2_grpc


@dataclass
class Running:
    core: Controller
    port: int
    agents: controller_pb2_grpc.ControllerStub
    ops: ops_pb2_grpc.OpsStub
    admin: tuple[tuple[str, str], ...]


@asynccontextmanager
async def controller(tmp_path: Path, max_message_bytes: int = 4 * 1024 * 1024) -> AsyncIterator[Running]:
    ref = ControllerRef()
    server, health = assemble(ref, max_message_bytes)
    port = listen(server, "127.0.0.1:0", None)
    await server.start()
    core = await build(settings(tmp_path))
    ref.set(core)
    await core.tokens.ensure_admin_file(tmp_path / "admin.token", core.clock_ms())
    await set_serving(health, True)
    channel = create_channel(f"127.0.0.1:{port}", None)
    token = (tmp_path / "admin.token").read_text().strip()
    try:
        yield Running(
            core,
            port,
            controller_pb2_grpc.ControllerStub(channel),
            ops_pb2_grpc.OpsStub(channel),
            (("authorization", f"Bearer {token}"),),
        )
    finally:
        await channel.close(None)
        await server.stop(1)
        await core.close()


def run(tmp_path: Path, body: Callable[[Running], Awaitable[None]], **kw: int) -> None:
    async def main() -> None:
        async with controller(tmp_path, **kw) as c:
            await asyncio.wait_for(body(c), 30)

    asyncio.run(main())


def register_req(host: str = "h1") -> controller_pb2.RegisterRequest:
    return controller_pb2.RegisterRequest(
        host_id=host,
        hostname=host,
        labels={"role": "web"},
        advertise="127.0.0.2:7100",
        agent_version="t",
        spool_epoch="e1",
    )


def push_req(seq: int, ts: int, value: float, host: str = "h1") -> controller_pb2.PushTelemetryRequest:
    return controller_pb2.PushTelemetryRequest(
        host_id=host,
        spool_epoch="e1",
        batches=[
            controller_pb2.TelemetryBatch(
                sequence=seq,
                series=[common_pb2.Series(name="node_load1", labels={}, timestamps_ms=[ts], values=[value])],
            )
        ],
    )


def test_register_push_and_query_with_dedup(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        now = c.core.clock_ms()
        r = await c.agents.Register(register_req(), timeout=5)
        assert r.acked_sequence == 0 and r.heartbeat_interval_ms == 5000
        a = await c.agents.PushTelemetry(push_req(1, now - 1000, 0.5), timeout=5)
        assert (a.acked_sequence, a.stored_samples) == (1, 1)
        again = await c.agents.PushTelemetry(push_req(1, now - 1000, 0.5), timeout=5)  # a retry after a lost ack
        assert (again.acked_sequence, again.stored_samples, again.duplicate_batches) == (1, 0, 1)
        r = await c.agents.Register(register_req(), timeout=5)  # a restarted agent learns what is committed
        assert r.acked_sequence == 1
        q = await c.ops.Query(ops_pb2.QueryRequest(expr='node_load1{host="h1"}'), metadata=c.admin, timeout=5)
        assert q.result_type == "vector"
        assert [(dict(s.metric), s.points[0].value) for s in q.result] == [
            ({"__name__": "node_load1", "host": "h1"}, 0.5)
        ]
        hosts = await c.ops.ListHosts(ops_pb2.ListHostsRequest(), metadata=c.admin, timeout=5)
        assert [(h.host_id, h.state, dict(h.labels)) for h in hosts.hosts] == [("h1", "up", {"role": "web"})]
        detail = await c.ops.GetHost(ops_pb2.GetHostRequest(host_id="h1"), metadata=c.admin, timeout=5)
        assert detail.acked_sequence == 1 and detail.vitals["node_load1"] == 0.5

    run(tmp_path, body)


def test_errors_map_to_status_codes_with_actionable_messages(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        async def code_of(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call
            return e.value.code(), e.value.details() or ""

        bad = register_req("../etc")
        assert (await code_of(c.agents.Register(bad, timeout=5)))[0] is grpc.StatusCode.INVALID_ARGUMENT
        code, msg = await code_of(c.agents.PushTelemetry(push_req(1, 1, 1.0, host="ghost"), timeout=5))
        assert code is grpc.StatusCode.FAILED_PRECONDITION and "Register first" in msg
        code, msg = await code_of(c.ops.GetHost(ops_pb2.GetHostRequest(host_id="nope"), metadata=c.admin, timeout=5))
        assert code is grpc.StatusCode.NOT_FOUND and "nope" in msg
        code, msg = await code_of(c.ops.Query(ops_pb2.QueryRequest(expr="up{"), metadata=c.admin, timeout=5))
        assert code is grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("1:4:")
        code, msg = await code_of(
            c.ops.StartRollout(ops_pb2.StartRolloutRequest(service="web", version="1"), metadata=c.admin, timeout=5)
        )
        assert code is grpc.StatusCode.NOT_FOUND and "no service named 'web'" in msg
        code, msg = await code_of(
            c.ops.RunDrill(ops_pb2.RunDrillRequest(source_yaml="title: ["), metadata=c.admin, timeout=5)
        )
        assert code is grpc.StatusCode.INVALID_ARGUMENT and "drill.yml:1:" in msg and "not valid YAML" in msg
        # every part is built: with no SLO files, the list is empty (it used to be a gap: "not loaded")
        assert list((await c.ops.ListSLOs(ops_pb2.ListSLOsRequest(), metadata=c.admin, timeout=5)).slos) == []

    run(tmp_path, body)


def test_ops_needs_a_token_with_the_right_role(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        for md in [(), (("authorization", "Bearer wrong"),), (("authorization", "Basic x"),)]:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await c.ops.GetStatus(ops_pb2.GetStatusRequest(), metadata=md, timeout=5)
            assert e.value.code() is grpc.StatusCode.UNAUTHENTICATED
        created = await c.ops.CreateToken(
            ops_pb2.CreateTokenRequest(name="ro", role="viewer"), metadata=c.admin, timeout=5
        )
        viewer = (("authorization", f"Bearer {created.secret}"),)
        st = await c.ops.GetStatus(ops_pb2.GetStatusRequest(), metadata=viewer, timeout=5)
        assert st.controller_health == "serving"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await c.ops.CreateToken(ops_pb2.CreateTokenRequest(name="x", role="admin"), metadata=viewer, timeout=5)
        assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED and "viewer" in (e.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await c.ops.WatchRollout(ops_pb2.GetRolloutRequest(id=1), metadata=viewer, timeout=5).read()
        assert e.value.code() is grpc.StatusCode.NOT_FOUND  # a viewer may watch; there is no rollout 1
        for call in (
            c.ops.StartRollout(ops_pb2.StartRolloutRequest(service="web", version="2"), metadata=viewer, timeout=5),
            c.ops.InjectFault(ops_pb2.OpsInjectFaultRequest(host_id="h1"), metadata=viewer, timeout=5),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call
            assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED  # refused before any handler runs

    run(tmp_path, body)


def test_changes_are_audited_with_actor_and_result(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        await c.ops.CreateToken(ops_pb2.CreateTokenRequest(name="ci", role="operator"), metadata=c.admin, timeout=5)
        with pytest.raises(grpc.aio.AioRpcError):
            await c.ops.CreateToken(ops_pb2.CreateTokenRequest(name="ci", role="operator"), metadata=c.admin, timeout=5)
        await c.ops.GetStatus(ops_pb2.GetStatusRequest(), metadata=c.admin, timeout=5)  # reads are not audited
        log = await c.ops.ListAudit(ops_pb2.ListAuditRequest(), metadata=c.admin, timeout=5)
        assert [(e.actor, e.action, e.target, e.result.split(":")[0]) for e in log.entries] == [
            ("admin", "CreateToken", "ci", "ok"),
            ("admin", "CreateToken", "ci", "error"),
        ]
        assert '"role":"operator"' in log.entries[0].arguments
        v = await c.ops.VerifyAudit(ops_pb2.VerifyAuditRequest(), metadata=c.admin, timeout=5)
        assert v.ok and v.entries == 2

    run(tmp_path, body)


def test_oversized_messages_are_refused_and_garbage_does_not_kill_the_server(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        await c.agents.Register(register_req(), timeout=5)
        big = push_req(1, 1, 1.0)
        big.batches[0].series[0].labels["blob"] = "x" * (300 * 1024)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await c.agents.PushTelemetry(big, timeout=5)
        assert e.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

        def junk() -> None:
            for payload in (
                b"\x00" * 64,
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 512,
            ):
                with socket.create_connection(("127.0.0.1", c.port), timeout=2) as s:
                    s.sendall(payload)
                    with suppress(OSError):
                        s.recv(1024)

        await asyncio.to_thread(junk)
        st = await c.ops.GetStatus(ops_pb2.GetStatusRequest(), metadata=c.admin, timeout=5)
        assert st.hosts_total == 1

    run(tmp_path, body, max_message_bytes=256 * 1024)


def test_generated_code_is_fresh() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, str(root / "proto" / "generate.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


SERVICE = """name = "hello"
command = ["/bin/true"]
front_port = 18080
back_ports = { blue = 18081, green = 18082 }
"""


def test_applied_services_are_audited_by_name_and_rolling_back_an_unknown_service_says_so(tmp_path: Path) -> None:
    async def body(c: Running) -> None:
        apply = ops_pb2.ApplyServiceRequest(source_toml=SERVICE, file_name="hello.toml")
        await c.ops.ApplyService(apply, metadata=c.admin, timeout=5)
        bad = ops_pb2.ApplyServiceRequest(source_toml="name = 1", file_name="broken.toml")
        with pytest.raises(grpc.aio.AioRpcError):
            await c.ops.ApplyService(bad, metadata=c.admin, timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as nosuch:
            await c.ops.RollbackService(ops_pb2.RollbackServiceRequest(service="nosuch"), metadata=c.admin, timeout=5)
        assert nosuch.value.code() is grpc.StatusCode.NOT_FOUND
        assert "no service named 'nosuch'" in (nosuch.value.details() or "")
        log = await c.ops.ListAudit(ops_pb2.ListAuditRequest(), metadata=c.admin, timeout=5)
        assert [(e.action, e.target) for e in log.entries] == [
            ("ApplyService", "hello"),
            ("ApplyService", "broken.toml"),
            ("RollbackService", "nosuch"),
        ]

    run(tmp_path, body)
