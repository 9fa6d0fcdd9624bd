"""The agent takes the comeback spread the controller gives in its Register
and Heartbeat replies: a large fleet spreads its return to a restarted
controller over longer, and asks its health less often meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
from switchman.agent.push import COMEBACK_JITTER_S, PROBE_EVERY_S, ControllerLink, Identity, probe_every
from switchman.agent.spool import Spool
from switchman.proto.v1 import controller_pb2, controller_pb2_grpc


class Spreading(controller_pb2_grpc.ControllerServicer):
    def __init__(self) -> None:
        self.spread_ms = 20_000

    async def Register(self, request: Any, context: Any) -> controller_pb2.RegisterResponse:
        return controller_pb2.RegisterResponse(heartbeat_interval_ms=50, comeback_spread_ms=self.spread_ms)

    async def Heartbeat(self, request: Any, context: Any) -> controller_pb2.HeartbeatResponse:
        return controller_pb2.HeartbeatResponse(comeback_spread_ms=self.spread_ms)

    async def PushTelemetry(self, request: Any, context: Any) -> controller_pb2.PushTelemetryResponse:
        return controller_pb2.PushTelemetryResponse(
            acked_sequence=request.batches[-1].sequence, comeback_spread_ms=self.spread_ms
        )


def test_the_health_is_asked_over_half_the_spread_and_at_most_every_second() -> None:
    assert probe_every(1.0) == PROBE_EVERY_S
    assert probe_every(COMEBACK_JITTER_S) == COMEBACK_JITTER_S / 2
    assert probe_every(80.0) == 40.0


def test_the_agent_adopts_the_spread_from_register_heartbeat_and_push_replies(tmp_path: Path) -> None:
    async def run() -> tuple[float, float, float]:
        servicer = Spreading()
        server = grpc.aio.server()
        controller_pb2_grpc.add_ControllerServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        spool = Spool(tmp_path / "spool.db", 1 << 20)
        link = ControllerLink(channel, spool, lambda: Identity("h1", "h1", {}, "127.0.0.2:7100", "t"))
        try:
            assert link._comeback_s == COMEBACK_JITTER_S
            await link._register(5.0)
            after_register = link._comeback_s
            servicer.spread_ms = 32_000  # the fleet grew
            beats = asyncio.create_task(link._heartbeat_loop())
            deadline = asyncio.get_running_loop().time() + 10
            while link._comeback_s != 32.0 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            beats.cancel()
            after_heartbeat = link._comeback_s
            servicer.spread_ms = 48_000
            spool.append(controller_pb2.TelemetryBatch(), 1)
            await link._push_once(5.0)
            return after_register, after_heartbeat, link._comeback_s
        finally:
            await channel.close()
            await server.stop(None)

    assert asyncio.run(run()) == (20.0, 32.0, 48.0)
