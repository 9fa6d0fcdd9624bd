"""Router throughput and added latency (SPEC 10, release 2): wrk's keep-alive
load on a back port directly, through the builtin router in tcp and http
mode, and through HAProxy in ``mode http`` with the configuration the agent
generates, in one run, rounds interleaved.

    python bench/router.py [--seconds 5] [--rounds 3] [--connections 16] [--json]

The back end is HAProxy answering a fixed 200 itself (``http-request
return``), so the back end is never what is measured. Each builtin router runs
in a process of its own (as in the agent, one event loop on one core).
Figures are medians over the rounds: requests/s, wrk's p99 latency, the
p99 each router adds to the direct p99, and each router's CPU time per
request (its processes' user + system time over the run: on a busy machine
req/s says what share of the CPUs a router got, CPU per request what it
costs); ratios against direct and HAProxy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.agent.services.routers.builtin import BuiltinRouter
from switchman.agent.services.routers.haproxy import HaproxyRouter
from switchman.agent.services.routers.http_proxy import HttpRouter

from bench.common import free_port, median, report, start, wait_for
from bench.switch import parse_wrk

ADDRESS = "127.0.0.42"
TARGETS = ("direct", "builtin_tcp", "builtin_http", "haproxy_http")

BACKEND = """global
    pidfile {pidfile}
    maxconn 4096
    nbthread 1

defaults
    mode http
    option http-keep-alive
    timeout client 60s
    timeout server 60s
    timeout connect 2s

frontend back
    bind {address}:{port}
    http-request return status 200 content-type text/plain string "hello from the back end"
"""


def serve_router(mode: str, front: int, back: int) -> None:
    """``--serve``: one builtin router in this process until SIGTERM."""

    async def run() -> None:
        kind = HttpRouter if mode == "http" else BuiltinRouter
        router = kind("bench", ADDRESS, front, {"blue": back, "green": back})
        await router.start()
        await router.flip("blue", ADDRESS, back)
        print("routing", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await router.stop()

    asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, seconds: int, connections: int, pid: int) -> dict[str, Any]:
    """One wrk run; with the router's CPU time per request (``pid`` 0: none measured)."""
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", f"http://{ADDRESS}:{port}/"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    w = parse_wrk(out)
    if pid:
        w["cpu_us_per_request"] = (cpu_seconds(pid) - before) * 1e6 / max(1, w["requests"])
    return w


def start_haproxy_router(work: Path, front: int, back: int) -> HaproxyRouter:
    async def go() -> HaproxyRouter:
        r = HaproxyRouter(
            "bench", ADDRESS, front, {"blue": back, "green": free_port(ADDRESS)}, work / "hap", "", "http"
        )
        await r.start()
        await r.flip("blue", ADDRESS, back)
        await r.stop_polling()
        return r

    return asyncio.run(go())


def run(args: argparse.Namespace) -> dict[str, Any]:
    for tool in ("wrk", "haproxy"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: run `make system-deps` (Debian package)")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="sw-bench-router-") as tmp:
        work = Path(tmp)
        back = free_port(ADDRESS)
        cfg = work / "back.cfg"
        cfg.write_text(BACKEND.format(pidfile=work / "back.pid", address=ADDRESS, port=back))
        subprocess.run(["haproxy", "-D", "-f", str(cfg)], check=True, timeout=20)
        ports = {"direct": back}
        pids = {"direct": 0}
        hap: HaproxyRouter | None = None
        try:
            for mode in ("tcp", "http"):
                ports[f"builtin_{mode}"] = front = free_port(ADDRESS)
                log = work / f"{mode}.log"
                argv = [sys.executable, __file__, "--serve", mode, "--front", str(front), "--back", str(back)]
                procs.append(start(argv, log))
                pids[f"builtin_{mode}"] = procs[-1].pid
                wait_for(lambda log=log: "routing" in log.read_text(), 20, f"builtin router ({mode})")
            ports["haproxy_http"] = free_port(ADDRESS)
            hap = start_haproxy_router(work, ports["haproxy_http"], back)
            pids["haproxy_http"] = int(hap.pidfile.read_text().split()[0])
            runs: dict[str, list[dict[str, Any]]] = {t: [] for t in TARGETS}
            for _ in range(args.rounds):
                for t in TARGETS:
                    runs[t].append(wrk(ports[t], args.seconds, args.connections, pids[t]))
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
                p.wait(10)
            if hap is not None:
                asyncio.run(hap.stop())
            with_pid = work / "back.pid"
            if with_pid.exists():
                os.kill(int(with_pid.read_text().split()[0]), signal.SIGTERM)
    return summarise(runs, args)


def summarise(runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> dict[str, Any]:
    doc: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds, "connections": args.connections}
    rps = {t: median([r["requests_per_s"] for r in runs[t]]) for t in TARGETS}
    p99 = {t: median([r["latency_p99_ms"] for r in runs[t]]) for t in TARGETS}
    added = {
        t: median([r["latency_p99_ms"] - d["latency_p99_ms"] for r, d in zip(runs[t], runs["direct"], strict=True)])
        for t in TARGETS[1:]
    }
    for t in TARGETS:
        doc[f"{t}_requests_per_s"] = round(rps[t])
        doc[f"{t}_p99_ms"] = round(p99[t], 3)
        doc[f"{t}_failed"] = sum(r["socket_errors"] + r["non_2xx"] for r in runs[t])
    cpu = {t: median([r["cpu_us_per_request"] for r in runs[t]]) for t in TARGETS[1:]}
    for t in TARGETS[1:]:
        doc[f"{t}_added_p99_ms"] = round(added[t], 3)
        doc[f"{t}_rps_vs_direct"] = round(rps[t] / rps["direct"], 3)
        doc[f"{t}_cpu_us_per_request"] = round(cpu[t], 1)
    # requests per CPU second: what a router costs, whatever share of the machine it got
    doc["builtin_http_cpu_vs_haproxy"] = round(cpu["builtin_http"] / cpu["haproxy_http"], 2)
    doc["builtin_tcp_cpu_vs_haproxy"] = round(cpu["builtin_tcp"] / cpu["haproxy_http"], 2)
    doc["builtin_http_rps_vs_haproxy"] = round(rps["builtin_http"] / rps["haproxy_http"], 3)
    doc["builtin_tcp_rps_vs_haproxy"] = round(rps["builtin_tcp"] / rps["haproxy_http"], 3)
    if added["haproxy_http"] > 0:
        doc["builtin_http_added_p99_vs_haproxy"] = round(added["builtin_http"] / added["haproxy_http"], 2)
    return doc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--json", action="store_true")
    p.add_argument("--serve", choices=["tcp", "http"], help=argparse.SUPPRESS)
    p.add_argument("--front", type=int, help=argparse.SUPPRESS)
    p.add_argument("--back", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve_router(args.serve, args.front, args.back)
        return 0
    report("router", run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
