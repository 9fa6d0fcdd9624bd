"""Garbage bytes on every port and random payloads on the agent's RPCs leave
both daemons serving."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import subprocess
import urllib.request
from pathlib import Path

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc

from tests.helpers import BIN, Daemon, free_port, wait_until
from tests.integration.test_fuzz_rpc import random_message

pytestmark = pytest.mark.slow


def spray(host: str, port: int, rng: random.Random) -> None:
    payloads = [
        b"\x00" * 100,
        b"GET / HTTP/1.1\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + rng.randbytes(2000),
        rng.randbytes(70_000),
        b"\x16\x03\x01\x02\x00" + rng.randbytes(500),
    ]
    for p in payloads:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2) as s:
            s.sendall(p)
            s.settimeout(0.5)
            with contextlib.suppress(OSError):
                s.recv(4096)


def test_garbage_everywhere(tmp_path: Path, daemons: list[Daemon]) -> None:
    rng = random.Random(7)
    port, cmetrics, agent_port, ametrics = free_port(), free_port(), free_port("127.0.0.9"), free_port("127.0.0.9")
    ctl = Daemon(
        [
            str(BIN / "switchman-controller"),
            "--insecure",
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(tmp_path / "c"),
            "--metrics-listen",
            f"127.0.0.1:{cmetrics}",
            "--http-listen",
            "",
        ],
        tmp_path / "c.log",
    )
    agent = Daemon(
        [
            str(BIN / "switchman-agent"),
            "--insecure",
            "--controller",
            f"127.0.0.1:{port}",
            "--listen",
            f"127.0.0.9:{agent_port}",
            "--data-dir",
            str(tmp_path / "a"),
            "--host-id",
            "g1",
            "--interval",
            "300ms",
            "--metrics-listen",
            f"127.0.0.9:{ametrics}",
        ],
        tmp_path / "a.log",
    )
    daemons += [ctl.start(), agent.start()]
    wait_until(lambda: "registered with the controller" in agent.log(), 20, what="agent registered")

    for host, p in (("127.0.0.1", port), ("127.0.0.1", cmetrics), ("127.0.0.9", agent_port), ("127.0.0.9", ametrics)):
        spray(host, p, rng)

    async def fuzz_agent() -> agent_pb2.AgentInfo:
        channel = grpc.aio.insecure_channel(f"127.0.0.9:{agent_port}")
        for method in agent_pb2.DESCRIPTOR.services_by_name["Agent"].methods:
            cls = GetMessageClass(method.input_type)
            call = channel.unary_unary(
                f"/switchman.v1.Agent/{method.name}", request_serializer=None, response_deserializer=None
            )
            for i in range(20):
                payload = rng.randbytes(rng.randint(0, 500)) if i % 2 else random_message(cls, rng).SerializeToString()
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await call(payload, timeout=5)
        info = await agent_pb2_grpc.AgentStub(channel).GetInfo(agent_pb2.GetInfoRequest(), timeout=5)
        await channel.close(None)
        return info

    info = asyncio.run(fuzz_agent())
    assert info.host_id == "g1" and ctl.alive() and agent.alive()
    body = urllib.request.urlopen(f"http://127.0.0.9:{ametrics}/metrics", timeout=5).read().decode()
    assert "node_load1" in body
    assert b"switchman_hosts" in urllib.request.urlopen(f"http://127.0.0.1:{cmetrics}/metrics", timeout=5).read()
    token = (tmp_path / "c" / "admin.token").read_text().strip()
    r = subprocess.run(
        [str(BIN / "switchman"), "--insecure", "--controller", f"127.0.0.1:{port}", "--token", token, "status"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and "1/1 up" in r.stdout
