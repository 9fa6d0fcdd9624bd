"""Controller ingest benchmark (SPEC 10).

    python bench/ingest.py --agents N --samples S --interval SECONDS --duration SECONDS --json

Starts a real controller, simulates N agents over real gRPC connections from
several client processes (one channel per simulated agent), and prints one
JSON object. ``--interval 0`` is the burst mode: every agent replays
coalesced spool batches of 5,000 samples back to back. The raw SQLite
ceiling (``executemany`` into the same schema, same batch size) is measured
in the same run; ``lost_samples`` is what the controller acknowledged (every
sequence up to each host's last ack) that the store does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
import psutil

from bench.common import BIN, free_port, median, percentile, report, start, wait_for

BURST_BATCH = 5000
SERIES_NAMES = (
    "node_cpu_seconds_total",
    "node_memory_MemAvailable_bytes",
    "node_load1",
    "node_filesystem_avail_bytes",
    "node_network_receive_bytes_total",
    "node_disk_read_bytes_total",
    "probe_success",
    "probe_duration_seconds",
)


def series_labels(i: int) -> tuple[str, dict[str, str]]:
    return SERIES_NAMES[i % len(SERIES_NAMES)], {"idx": str(i), "mode": "user"}


def client_main(port: int, agents: list[str], samples: int, interval: float, window: Any, out: Any) -> None:
    """One client process: its share of the simulated agents, pushing on a schedule.
    It puts ``"warm"`` on ``out`` once each of its agents made its first push
    (that creates the agent's series), then waits for the parent to set
    ``window`` (start, stop) when every client is warm."""
    from switchman.agent.push import COMEBACK_JITTER_S, controller_serving, probe_every
    from switchman.proto.channel import create_channel
    from switchman.proto.v1 import common_pb2, controller_pb2, controller_pb2_grpc

    async def agent(
        host: str, phase: float, lat: list[float], first: list[float], counts: dict[str, int], acked: dict[str, int]
    ) -> None:
        channel = create_channel(f"127.0.0.1:{port}", None)
        stub = controller_pb2_grpc.ControllerStub(channel)
        comeback = [COMEBACK_JITTER_S]  # as the agent: what the last reply said

        async def register() -> bool:
            try:
                reply = await stub.Register(
                    controller_pb2.RegisterRequest(
                        host_id=host, hostname=host, advertise="127.0.0.1:1", agent_version="bench", spool_epoch="bench"
                    ),
                    timeout=60,
                )
            except Exception:
                counts["register_retries"] += 1
                return False
            if reply.comeback_spread_ms > 0:
                comeback[0] = reply.comeback_spread_ms / 1000
            return True

        for attempt in range(5):
            if await register():
                break
            await asyncio.sleep(0.5 * (attempt + 1))
        names = [series_labels(i) for i in range(samples)]
        points = max(1, BURST_BATCH // samples) if interval == 0 else 1
        ts = int(time.time() * 1000) - 3_600_000

        async def push(seq: int, into: list[float]) -> bool:
            batch = controller_pb2.TelemetryBatch(sequence=seq)
            # steady: stamped with the wall clock like an agent's collection, so the
            # minute rollups have real buckets to compute; burst: an hour-old backlog
            stamps = [int(time.time() * 1000)] if interval else [ts + seq * points + k for k in range(points)]
            for name, labels in names:
                batch.series.append(
                    common_pb2.Series(
                        name=name,
                        labels=labels,
                        timestamps_ms=stamps,
                        values=[float(seq + k) for k in range(points)],
                    )
                )
            t0 = time.perf_counter()
            try:
                r = await stub.PushTelemetry(
                    controller_pb2.PushTelemetryRequest(host_id=host, spool_epoch="bench", batches=[batch]), timeout=30
                )
            except Exception:
                counts["errors"] += 1
                return False
            into.append(time.perf_counter() - t0)
            acked[host] = max(acked.get(host, 0), r.acked_sequence)
            if r.comeback_spread_ms > 0:
                comeback[0] = r.comeback_spread_ms / 1000
            return True

        # the first push creates the agent's series: warm-up, not in the measured window
        seq = 1
        for _ in range(10):  # bounded retries of the warm-up push
            if await push(seq, first):
                break
            await asyncio.sleep(0.5)
        warm.append(host)
        if len(warm) == len(agents):
            out.put("warm")
        await started.wait()
        start_at, stop_at = window[0], window[1]
        await asyncio.sleep(max(0.0, start_at - time.time()) + phase)
        while time.time() < stop_at:
            if await push(seq + 1, lat):
                seq += 1
            if interval > 0:
                await asyncio.sleep(max(0.0, start_at + phase + (seq - 1) * interval - time.time()))
        if window[2]:  # --restart: on pushing until the restarted controller took every agent back
            seq = await through_restart(seq, phase, register, push, lambda: controller_serving(channel), comeback)
        await channel.close(None)

    async def through_restart(
        seq: int,
        phase: float,
        register: Callable[[], Awaitable[bool]],
        push: Callable[[int, list[float]], Awaitable[bool]],
        serving: Callable[[], Awaitable[bool]],
        comeback: list[float],
    ) -> int:
        """Push on schedule while the parent restarts the controller. A failed
        push is retried as an agent retries: ask the health service about
        every ``probe_every`` seconds and, once it serves again, come back
        within a jittered half of ``comeback[0]`` (the last reply's spread),
        register, push. Each agent's first push that started after
        the new controller served is timed into ``after``."""
        timed = False
        end = window[1] + window[2]
        while time.time() < end:
            t0 = time.time()
            first = not timed and window[3] > 0 and t0 >= window[3]
            if await push(seq + 1, after if first else []):
                seq += 1
                timed = timed or first
                await asyncio.sleep(max(0.0, window[0] + phase + (seq - 1) * interval - time.time()))
                continue
            while time.time() < end and not await serving():
                await asyncio.sleep(probe_every(comeback[0]) * random.uniform(0.5, 1.5))
            await asyncio.sleep(random.uniform(0, comeback[0] / 2))
            await register()
        return seq

    warm: list[str] = []
    after: list[float] = []  # the first push of each agent that got through after the restart
    started = asyncio.Event()

    async def wait_for_window() -> None:
        while window[0] == 0:
            await asyncio.sleep(0.1)
        started.set()

    async def main() -> None:
        waiter = asyncio.create_task(wait_for_window())
        lat: list[float] = []
        first: list[float] = []
        counts = {"errors": 0, "register_retries": 0}
        acked: dict[str, int] = {}  # host -> highest sequence the controller acknowledged
        n = len(agents)
        done = await asyncio.gather(
            *(
                agent(h, (interval * i / n) if interval else 0.0, lat, first, counts, acked)
                for i, h in enumerate(agents)
            ),
            return_exceptions=True,
        )
        await waiter
        counts["errors"] += sum(1 for d in done if isinstance(d, BaseException))
        out.put({"latencies": lat, "first": first, "after_restart": after, "acked": acked, **counts})

    asyncio.run(main())


def scrape_histogram(port: int) -> list[tuple[float, float]]:
    """The controller's own PushTelemetry histogram buckets (le, cumulative count)."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    buckets = []
    for line in text.splitlines():
        if line.startswith("switchman_controller_push_duration_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float(le), float(line.rsplit(" ", 1)[1])))
    return buckets


def histogram_p99_le(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> float:
    """Upper bound (ms) of the bucket holding the server-side p99 between two scrapes."""
    delta = [(le, a - b) for (le, a), (_, b) in zip(after, before, strict=True)]
    total = delta[-1][1] if delta else 0
    for le, count in delta:
        if total and count >= 0.99 * total:
            return le * 1000
    return float("nan")


RESTART_PHASE_S = 40.0


def restart(ctl: Any, argv: list[str], work: Path) -> tuple[Any, float]:
    """SIGTERM the controller, start it again on the same data and port; returns
    it and how long it took to serve again."""
    down = time.monotonic()
    ctl.send_signal(signal.SIGTERM)
    ctl.wait(60)
    again = start(argv, work / "controller-2.log")
    wait_for(lambda: "controller serving" in (work / "controller-2.log").read_text(), 120, "the restarted controller")
    return again, time.monotonic() - down


def restart_figures(after: list[float], serving_after_s: float, args: argparse.Namespace) -> dict[str, Any]:
    if not args.restart:
        return {}
    return {
        "restart_serving_after_s": round(serving_after_s, 2),
        "restart_agents_back": len(after),
        "restart_first_push_p50_ms": round(percentile(after, 0.5) * 1000, 2),
        "restart_first_push_p99_ms": round(percentile(after, 0.99) * 1000, 2),
    }


def stored_by_host(db_path: Path) -> dict[str, int]:
    """Samples the store holds per simulated host (the controller's own ``up`` left out)."""
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            "SELECT r.host_id, count(*) FROM samples s JOIN series r ON r.id = s.series_id"
            " WHERE r.name != 'up' AND r.host_id LIKE 'bench-%' GROUP BY r.host_id"
        ).fetchall()
    finally:
        db.close()
    return {str(h): int(n) for h, n in rows}


def sqlite_ceiling(samples: int, agents: int, rows_total: int, burst: bool) -> float:
    """Rows/s of plain executemany into the controller's schema, in batches
    shaped like the pushes (5,000 rows, or one agent's samples per batch)."""
    from switchman.controller.store.db import connect, migrate

    tmp = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    conn = connect(tmp / "c.db")
    migrate(conn)
    n_series = samples * agents
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO series (id, name, labels, created_ms) VALUES (?, 'm', ?, 0)",
        [(i, f'{{"i":"{i}"}}') for i in range(1, n_series + 1)],
    )
    conn.execute("COMMIT")
    per_batch = BURST_BATCH if burst else samples
    points = max(1, BURST_BATCH // samples) if burst else 1
    ts0 = int(time.time() * 1000) - 3_600_000
    done = 0
    t0 = time.perf_counter()
    step = 0
    while done < rows_total:
        agent = step % agents
        base = agent * samples + 1
        tick = (step // agents) * points
        rows = [(base + (k // points), ts0 + tick + (k % points), 1.0) for k in range(per_batch)]
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?,?,?)", rows)
        conn.execute("COMMIT")
        done += len(rows)
        step += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return done / elapsed


def run(args: argparse.Namespace) -> dict[str, Any]:
    burst = args.interval == 0
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    port = free_port()
    mport = free_port()
    argv = [
        str(BIN / "switchman-controller"),
        "--insecure",
        "--listen",
        f"127.0.0.1:{port}",
        "--data-dir",
        str(work / "c"),
        "--metrics-listen",
        f"127.0.0.1:{mport}",
        "--http-listen",
        "",
        "--heartbeat-interval",
        "5s",
    ]
    ctl = start(argv, work / "controller.log")
    serving_after_s = float("nan")
    try:
        wait_for((work / "c" / "admin.token").exists, 30, "controller start")
        proc = psutil.Process(ctl.pid)
        procs = max(1, min(args.clients, args.agents))
        hosts = [f"bench-{i:05d}" for i in range(args.agents)]
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        # (start, stop) of the measured window, set once all are warm; how long the restart phase lasts
        # and when the restarted controller served
        window = ctx.Array("d", [0.0, 0.0, RESTART_PHASE_S if args.restart else 0.0, 0.0])
        workers = [
            ctx.Process(target=client_main, args=(port, hosts[i::procs], args.samples, args.interval, window, out))
            for i in range(procs)
        ]
        warm_from = time.time()
        for w in workers:
            w.start()
        for _ in workers:  # every agent registered and made its first push (which creates its series)
            assert out.get(timeout=600) == "warm"
        warmup = time.time() - warm_from
        start_at = time.time() + 1.0
        stop_at = start_at + args.duration
        window[1] = stop_at
        window[0] = start_at
        time.sleep(max(0.0, start_at - time.time()))
        hist0 = scrape_histogram(mport)
        cpu0 = sum(proc.cpu_times()[:2])
        clients = [psutil.Process(w.pid) for w in workers]
        ccpu0 = sum(sum(c.cpu_times()[:2]) for c in clients)
        t0 = time.monotonic()
        time.sleep(max(0.0, stop_at - time.time()))
        cpu1 = sum(proc.cpu_times()[:2])
        ccpu1 = sum(sum(c.cpu_times()[:2]) for c in clients)
        elapsed = time.monotonic() - t0
        server_hist = histogram_p99_le(hist0, scrape_histogram(mport))
        rss = proc.memory_info().rss
        if args.restart:
            ctl, serving_after_s = restart(ctl, argv, work)
            window[3] = time.time()
        results = [out.get(timeout=120) for _ in workers]
        # the restarted controller's histogram holds only the pushes of the restart phase
        restart_hist = float("nan")
        if args.restart:
            since = scrape_histogram(mport)
            restart_hist = histogram_p99_le([(le, 0.0) for le, _ in since], since)
        for w in workers:
            w.join(60)
        lat = [x for r in results for x in r["latencies"]]
        errors = sum(r["errors"] for r in results)
        acked = {h: seq for r in results for h, seq in r["acked"].items()}
        per_push = BURST_BATCH if burst else args.samples
        by_host = stored_by_host(work / "c" / "controller.db")
        stored = sum(by_host.values())
        # what the store holds against what it acknowledged: an ack is cumulative (every
        # sequence up to it), and a push that timed out on the client may still be stored
        lost = sum(max(0, seq * per_push - by_host.get(h, 0)) for h, seq in acked.items())
        ceiling = sqlite_ceiling(args.samples, args.agents, min(max(stored, 200_000), 2_000_000), burst)
        samples_per_s = len(lat) * per_push / elapsed  # acknowledged in the measured window
        return {
            "mode": "burst" if burst else "steady",
            "agents": args.agents,
            "samples_per_push": BURST_BATCH if burst else args.samples,
            "interval_s": args.interval,
            "duration_s": round(elapsed, 2),
            "pushes": len(lat),
            "push_errors": errors,
            "samples_per_s": round(samples_per_s, 1),
            "push_p50_ms": round(percentile(lat, 0.5) * 1000, 2),
            "push_p99_ms": round(percentile(lat, 0.99) * 1000, 2),
            "push_median_ms": round(median(lat) * 1000, 2),
            "warmup_s": round(warmup, 1),
            "first_push_p99_ms": round(percentile([x for r in results for x in r["first"]], 0.99) * 1000, 2),
            **restart_figures([x for r in results for x in r["after_restart"]], serving_after_s, args),
            **({"restart_server_push_p99_ms_le": restart_hist} if args.restart else {}),
            "server_push_p99_ms_le": server_hist,
            "controller_cpu_cores": round((cpu1 - cpu0) / elapsed, 3),
            "clients_cpu_cores": round((ccpu1 - ccpu0) / elapsed, 3),  # the simulated agents share the machine
            "controller_rss_mib": round(rss / 2**20, 1),
            "sqlite_ceiling_rows_per_s": round(ceiling, 1),
            "ingest_vs_ceiling": round(samples_per_s / ceiling, 3),
            "stored_samples": stored,
            "lost_samples": lost,
        }
    finally:
        ctl.send_signal(signal.SIGTERM)
        try:
            ctl.wait(30)
        except Exception:
            ctl.kill()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=int, default=2000)
    p.add_argument("--samples", type=int, default=40, help="samples per agent per interval")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between pushes; 0 = burst")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument(
        "--restart",
        action="store_true",
        help="after the window, restart the controller and time each agent's first push to it",
    )
    p.add_argument("--json", action="store_true", help="print only the JSON object")
    args = p.parse_args()
    doc = run(args)
    report(f"ingest_{doc['mode']}", doc, args.json)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
    raise SystemExit(main())
