"""Fault timing benchmark (SPEC 10: fault injection to effect and halt to
revert, each <= 1 s): a real agent and the sample service; a client sends
back-to-back requests through the front port (a new connection each) while
a 300 ms latency fault is injected and halted, N times.

    python bench/faults.py [--rounds 10] [--json]

``effect_ms``: from the start of the InjectFault call to the start of the
first request that takes the injected latency. ``revert_ms``: from the start
of the HaltFaults call to the start of the first request that does not.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.proto.channel import create_channel
from switchman.proto.services import parse_toml, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

from bench.common import ROOT, free_port, hello_spec, median, percentile, report, start_agent

ADDRESS = "127.0.0.43"
LATENCY_S = 0.3


class Prober:
    """Back-to-back GETs on new connections; (start, duration) of each."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection(ADDRESS, self.port, timeout=5)
            try:
                conn.request("GET", "/")
                conn.getresponse().read()
            except OSError:
                pass
            finally:
                conn.close()
            self.samples.append((t0, time.perf_counter() - t0))

    def first_after(self, since: float, slow: bool) -> float:
        for t0, d in list(self.samples):
            if t0 >= since and (d >= LATENCY_S * 0.9) == slow:
                return t0
        return float("nan")

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


async def rounds(agent_port: int, spec_toml: str, front: int, n: int) -> tuple[list[float], list[float]]:
    channel = create_channel(f"{ADDRESS}:{agent_port}", None)
    stub = agent_pb2_grpc.AgentStub(channel)
    await stub.Switch(
        agent_pb2.SwitchRequest(spec=to_proto(parse_toml(spec_toml, "hello.toml")), version="1"), timeout=60
    )
    effect, revert = [], []
    spec = common_pb2.FaultSpec(
        kind="latency", duration_ms=60_000, service="hello", params={"latency": f"{int(LATENCY_S * 1000)}ms"}
    )
    with Prober(front) as probe:
        await asyncio.sleep(0.5)
        for _ in range(n):
            t_inject = time.perf_counter()
            await stub.InjectFault(agent_pb2.InjectFaultRequest(spec=spec), timeout=10)
            await asyncio.sleep(1.5)
            effect.append((probe.first_after(t_inject, slow=True) - t_inject) * 1000)
            t_halt = time.perf_counter()
            await stub.HaltFaults(agent_pb2.HaltFaultsRequest(), timeout=10)
            await asyncio.sleep(1.0)
            revert.append((probe.first_after(t_halt, slow=False) - t_halt) * 1000)
    await channel.close(None)
    return effect, revert


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    agent_port, front, blue, green = (free_port(ADDRESS) for _ in range(4))
    agent = start_agent(work, ADDRESS, agent_port)
    try:
        effect, revert = asyncio.run(rounds(agent_port, hello_spec(front, blue, green), front, args.rounds))
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        subprocess.run(["pkill", "-f", str(ROOT / "examples" / "hello" / "app.py")], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "fault": f"latency {int(LATENCY_S * 1000)}ms on the front port",
        "rounds": args.rounds,
        "effect_ms_median": round(median(effect), 1),
        "effect_ms_p90": round(percentile(effect, 0.9), 1),
        "effect_ms_max": round(max(effect), 1),
        "revert_ms_median": round(median(revert), 1),
        "revert_ms_p90": round(percentile(revert, 0.9), 1),
        "revert_ms_max": round(max(revert), 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    report("faults", run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
