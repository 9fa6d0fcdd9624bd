"""Zero-downtime switch benchmark (SPEC 10): a real agent, the sample service
behind the builtin router or HAProxy, wrk driving steady load on the front port while
the agent switches v1 -> v2 and rolls back.

    python bench/switch.py [--router builtin|haproxy] [--seconds 20] [--connections 8] [--json]

Failed requests = wrk's socket errors (connect, read, write, timeout) plus
non-2xx responses. ``flip_ms`` is from "new slot healthy" to "router
flipped" as the agent measures it; ``rollback_ms`` is the whole Rollback call.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.proto.channel import create_channel
from switchman.proto.services import parse_toml, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc

from bench.common import ROOT, free_port, hello_spec, report, start_agent

ADDRESS = "127.0.0.41"


def parse_wrk(text: str) -> dict[str, Any]:
    if "requests in" not in text:
        raise SystemExit(f"wrk failed:\n{text}")
    reqs = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)] if p99 else float("nan")
    return {
        "requests": reqs,
        "requests_per_s": rps,
        "socket_errors": socket_errors,
        "non_2xx": non2xx,
        "latency_p99_ms": p99_ms,
    }


async def drive(agent_port: int, spec_toml: str, seconds: float, wrk_cmd: list[str]) -> dict[str, Any]:
    spec = parse_toml(spec_toml, "bench-hello.toml")
    channel = create_channel(f"{ADDRESS}:{agent_port}", None)
    stub = agent_pb2_grpc.AgentStub(channel)
    r = await stub.Switch(agent_pb2.SwitchRequest(spec=to_proto(spec), version="1"), timeout=60)
    wrk = await asyncio.create_subprocess_exec(
        *wrk_cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    await asyncio.sleep(seconds * 0.25)
    r = await stub.Switch(agent_pb2.SwitchRequest(spec=to_proto(spec), version="2"), timeout=60)
    flip_ms = r.flip_latency_ms
    await asyncio.sleep(seconds * 0.3)
    t0 = time.perf_counter()
    rb = await stub.Rollback(agent_pb2.RollbackRequest(service="hello"), timeout=60)
    rollback_call_ms = (time.perf_counter() - t0) * 1000
    out, _ = await wrk.communicate()
    await channel.close(None)
    return {
        "flip_ms": flip_ms,
        "rollback_flip_ms": rb.flip_latency_ms,
        "rollback_call_ms": round(rollback_call_ms, 1),
        "active_after": rb.status.active_version,
        "wrk": out.decode(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make system-deps` (Debian package)")
    work = Path(tempfile.mkdtemp(prefix="bench-switch-"))
    agent_port, front, blue, green = (free_port(ADDRESS) for _ in range(4))
    app = ROOT / "examples" / "hello" / "app.py"
    spec_toml = hello_spec(front, blue, green, args.router)
    agent = start_agent(work, ADDRESS, agent_port)
    try:
        wrk_cmd = [
            "wrk",
            "-t2",
            f"-c{args.connections}",
            f"-d{int(args.seconds)}s",
            "--latency",
            f"http://{ADDRESS}:{front}/",
        ]
        res = asyncio.run(drive(agent_port, spec_toml, args.seconds, wrk_cmd))
        w = parse_wrk(res.pop("wrk"))
        return {
            "router": args.router,
            "seconds": args.seconds,
            "connections": args.connections,
            **w,
            "failed_requests": w["socket_errors"] + w["non_2xx"],
            **res,
        }
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        subprocess.run(["pkill", "-f", str(app)], check=False)  # the slots outlive the agent by design
        subprocess.run(["pkill", "-f", str(work)], check=False)  # and HAProxy too
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--router", choices=["builtin", "haproxy"], default="builtin")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    doc = run(args)
    report(f"switch_{args.router}", doc, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
