"""Query benchmark: the controller's Prometheus HTTP API against Debian's
Prometheus (2.42) serving the same samples.

    python bench/query_api.py [--hosts 400] [--minutes 60] [--resolution 15] [--repeats 5] [--json]

Per host, node_exporter-shaped series (``node_cpu_seconds_total`` for 2 CPUs x
3 modes, ``node_load1``, ``node_memory_MemAvailable_bytes``,
``node_network_receive_bytes_total`` with a counter reset on every 50th host)
labelled ``job="node"``, ``instance`` and ``host`` as the controller stores
an agent's push, one sample per ``--resolution`` seconds over the last
``--minutes``, each host at its own phase. Values come from a seeded
generator; every figure is a real timing.

The controller's copy goes in through its own ingest (``Ingestor.push``
after ``fleet.register``, as an agent's push would) into a data dir that
is then rolled up and closed; the real ``switchman-controller`` binary is
started on it and answers over its HTTP server. Prometheus' copy is
OpenMetrics text turned into blocks by ``promtool tsdb
create-blocks-from openmetrics`` and served by ``prometheus``.

Each query runs instant (at the end of the window) and range (the last
hour, 60 s step) against both. Results must agree (same label sets, values
within 1e-6 relative; Prometheus is the reference) before a query is timed;
one that differs is reported and left out of the overall ratio. Each timed
query gets a warm-up, then ``--repeats`` runs per server, alternating which
server goes first; medians per server, ratio controller/Prometheus, and the
geometric mean of the ratios.

Sizes: 400 hosts (3,600 series, 864,000 samples) keep a run near 2 minutes
on 2 cores, most of it loading the two copies. A controller range query over
the 2,400 CPU series takes about 1 s, most of it SQLite handing over the
624,000 rows it reads and the JSON of the answer (ADR 0020); the time grows
with the series.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.controller.fleet import Host
from switchman.controller.wiring import build, settings
from switchman.proto.v1 import common_pb2, controller_pb2

from bench.common import BIN, free_port, median, save, start, wait_for

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
CPUS = 2
MODES = ("idle", "system", "user")
SHARE = {"idle": 0.8, "system": 0.05, "user": 0.15}  # of each CPU's seconds
FAMILIES = (  # (family, OpenMetrics type, sample name)
    ("node_cpu_seconds", "counter", "node_cpu_seconds_total"),
    ("node_load1", "gauge", "node_load1"),
    ("node_memory_MemAvailable_bytes", "gauge", "node_memory_MemAvailable_bytes"),
    ("node_network_receive_bytes", "counter", "node_network_receive_bytes_total"),
)
QUERIES = (
    "rate(node_cpu_seconds_total[5m])",
    "sum by (instance) (rate(node_cpu_seconds_total[5m]))",
    "sum by (mode) (rate(node_cpu_seconds_total[5m]))",
    "topk(10, node_load1)",
    "quantile_over_time(0.9, node_load1[30m])",
    "avg(node_memory_MemAvailable_bytes)",
    "rate(node_network_receive_bytes_total[5m])",
)
RANGE_S = 3600
STEP_S = 60
REL_TOL = 1e-6
ABS_TOL = 1e-9  # sums of rates that cancel to ~0 differ only in rounding


@dataclass(frozen=True)
class Shape:
    hosts: int
    end_s: int  # the last instant of the window (Unix seconds)
    minutes: int
    resolution_s: int
    seed: int

    def timestamps(self, h: int) -> range:
        """Host ``h``'s sample times (seconds): its own phase within a step."""
        first = self.end_s - self.minutes * 60 + 1 + h % self.resolution_s
        return range(first, self.end_s + 1, self.resolution_s)


@dataclass(frozen=True)
class GenSeries:
    family: int  # index into FAMILIES
    labels: dict[str, str]  # without host: what the agent pushes
    ts: list[int]  # seconds
    values: list[float]


def host_series(shape: Shape, h: int) -> list[GenSeries]:
    """One host's series, the same on every call."""
    rng = random.Random(shape.seed * 1_000_003 + h)
    host = f"host-{h:05d}"
    ts = list(shape.timestamps(h))
    n, step = len(ts), shape.resolution_s
    target = {"job": "node", "instance": host}
    out = []
    for cpu in range(CPUS):
        for mode in MODES:
            v = rng.uniform(1e4, 1e6) * SHARE[mode]
            values = []
            for _ in range(n):
                v += step * SHARE[mode] * rng.uniform(0.5, 1.5)
                values.append(v)
            out.append(GenSeries(0, {**target, "cpu": str(cpu), "mode": mode}, ts, values))
    load = rng.uniform(0.1, 4.0)
    loads = []
    for _ in range(n):
        load = max(0.0, load + rng.gauss(0.0, 0.2))
        loads.append(load)
    out.append(GenSeries(1, dict(target), ts, loads))
    mem = rng.uniform(1e9, 16e9)
    mems = [mem + rng.uniform(-5e7, 5e7) for _ in range(n)]
    out.append(GenSeries(2, dict(target), ts, mems))
    rx = rng.uniform(0.0, 1e12)
    rxs = []
    for k in range(n):
        rx = 0.0 if h % 50 == 0 and k == n // 2 else rx + step * rng.uniform(0.0, 1e6)  # an agent restart
        rxs.append(rx)
    out.append(GenSeries(3, {**target, "device": "eth0"}, ts, rxs))
    return out


# loading ------------------------------------------------------------------------


async def load_controller(shape: Shape, data_dir: Path) -> int:
    """Push every host's series through the controller's ingest, as its agent
    would, then catch up the rollups the running controller would have done."""
    core = await build(settings(data_dir))
    try:
        now = core.clock_ms()
        stored = 0

        async def one(h: int) -> int:
            host_id = f"host-{h:05d}"
            await core.fleet.register(Host(host_id, host_id, "127.0.0.1:1", {}, "bench", [], now, now))
            batch = controller_pb2.TelemetryBatch(sequence=1)
            for s in host_series(shape, h):
                batch.series.append(
                    common_pb2.Series(
                        name=FAMILIES[s.family][2],
                        labels=s.labels,
                        timestamps_ms=[t * 1000 for t in s.ts],
                        values=s.values,
                    )
                )
            return (await core.ingest.push(host_id, "bench", [batch])).stored

        for lo in range(0, shape.hosts, 50):  # 50 pushes in flight: the writer groups their commits
            stored += sum(await asyncio.gather(*(one(h) for h in range(lo, min(lo + 50, shape.hosts)))))
        for _ in range(shape.minutes // 30 + 2):  # rollups do 30 buckets a run
            await core.maintain()
        return stored
    finally:
        await core.close()


def openmetrics_line(name: str, labels: dict[str, str], value: float, ts: int) -> str:
    text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{text}}} {value!r} {ts}\n"


def write_openmetrics(shape: Shape, path: Path) -> int:
    """The same samples as OpenMetrics text, with the controller's ``host`` label;
    families not interleaved (one part file each, joined at the end)."""
    parts = [path.with_suffix(f".{i}") for i in range(len(FAMILIES))]
    files: list[TextIO] = [p.open("w") for p in parts]
    lines = 0
    try:
        for h in range(shape.hosts):
            for s in host_series(shape, h):
                labels = {**s.labels, "host": s.labels["instance"]}
                name = FAMILIES[s.family][2]
                files[s.family].writelines(
                    openmetrics_line(name, labels, v, t) for t, v in zip(s.ts, s.values, strict=True)
                )
                lines += len(s.ts)
    finally:
        for f in files:
            f.close()
    with path.open("w") as out:
        for (family, kind, _), part in zip(FAMILIES, parts, strict=True):
            out.write(f"# TYPE {family} {kind}\n")
            with part.open() as f:
                shutil.copyfileobj(f, out)
            part.unlink()
        out.write("# EOF\n")
    return lines


# servers ------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    headers: dict[str, str]
    conn: http.client.HTTPConnection | None = None

    def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        """One request over a kept-alive connection (reopened when it broke)."""
        url = f"{path}?{urllib.parse.urlencode(params)}"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            try:
                self.conn.request("GET", url, headers=self.headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def data(self, path: str, params: dict[str, str]) -> Any:
        status, body = self.get(path, params)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise RuntimeError(f"{self.name} {path} {params}: HTTP {status}: {body[:300]!r}")
        return doc["data"]


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def start_controller(data_dir: Path, work: Path) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    proc = start(
        [
            str(BIN / "switchman-controller"),
            "--insecure",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--data-dir",
            str(data_dir),
            "--metrics-listen",
            "",
            "--http-listen",
            f"127.0.0.1:{port}",
            "--heartbeat-ttl",
            "24h",  # the loaded hosts stay up: no staleness markers while timing
        ],
        work / "controller.log",
    )
    wait_for(lambda: ((data_dir / "admin.token").exists() and ready(port)) or proc.poll() is not None, 60, "controller")
    if proc.poll() is not None:
        raise SystemExit(f"controller exited: {(work / 'controller.log').read_text()[-2000:]}")
    token = (data_dir / "admin.token").read_text().strip()
    return proc, Server("controller", port, {"Authorization": f"Bearer {token}"})


def start_prometheus(tsdb: Path, work: Path) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    config = work / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")  # nothing scraped: only the blocks
    proc = start(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        work / "prometheus.log",
    )
    wait_for(lambda: ready(port) or proc.poll() is not None, 60, "prometheus")
    if proc.poll() is not None:
        raise SystemExit(f"prometheus exited: {(work / 'prometheus.log').read_text()[-2000:]}")
    return proc, Server("prometheus", port, {})


# comparing and timing -------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    expr: str
    kind: str  # instant | range
    params: dict[str, str]

    @property
    def path(self) -> str:
        return "/api/v1/query" if self.kind == "instant" else "/api/v1/query_range"


def queries(end_s: int) -> list[Query]:
    out = []
    for expr in QUERIES:
        out.append(Query(expr, "instant", {"query": expr, "time": str(end_s)}))
    for expr in QUERIES:
        rng = {"query": expr, "start": str(end_s - RANGE_S), "end": str(end_s), "step": str(STEP_S)}
        out.append(Query(expr, "range", rng))
    return out


def _key(metric: dict[str, str]) -> str:
    return json.dumps(metric, sort_keys=True)


def _points(item: dict[str, Any]) -> list[tuple[float, float]]:
    pairs = item["values"] if "values" in item else [item["value"]]
    return [(float(t), float(v)) for t, v in pairs]


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def differences(ours: Any, ref: Any, limit: int = 3) -> list[str]:
    """How the controller's answer differs from Prometheus' (empty when it does not)."""
    if ours["resultType"] != ref["resultType"]:
        return [f"result type {ours['resultType']} (Prometheus: {ref['resultType']})"]
    a = {_key(i["metric"]): _points(i) for i in ours["result"]}
    b = {_key(i["metric"]): _points(i) for i in ref["result"]}
    out = []
    missing, extra = sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys())
    if missing:
        out.append(f"{len(missing)} of Prometheus' {len(b)} series missing, e.g. {missing[0]}")
    if extra:
        out.append(f"{len(extra)} series Prometheus does not have, e.g. {extra[0]}")
    bad = 0
    for k in sorted(a.keys() & b.keys()):
        pa, pb = dict(a[k]), dict(b[k])
        if pa.keys() != pb.keys():
            bad += 1
            if bad <= limit:
                out.append(f"{k}: steps {sorted(pa.keys() ^ pb.keys())[:3]} in one answer only")
            continue
        wrong = [(t, pa[t], pb[t]) for t in sorted(pa) if not _close(pa[t], pb[t])]
        if wrong:
            bad += 1
            if bad <= limit:
                t, x, y = wrong[0]
                out.append(f"{k} at {t:.0f}: {x!r} (Prometheus: {y!r}), {len(wrong)} of {len(pa)} points")
    if bad > limit:
        out.append(f"... {bad} series differ in all")
    return out


def time_query(q: Query, servers: list[Server], repeats: int) -> dict[str, list[float]]:
    """Seconds per request (the body read, not parsed), alternating which
    server goes first. The caller's comparison requests were the warm-up."""
    times: dict[str, list[float]] = {s.name: [] for s in servers}
    for r in range(repeats):
        for s in servers if r % 2 == 0 else servers[::-1]:
            t0 = time.perf_counter()
            status, _ = s.get(q.path, q.params)
            times[s.name].append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{s.name}: HTTP {status} for {q.expr}")
    return times


def series_count(server: Server, end_s: int) -> int:
    data = server.data("/api/v1/query", {"query": 'count({job="node"})', "time": str(end_s)})
    return int(float(data["result"][0]["value"][1])) if data["result"] else 0


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def compare(qs: list[Query], ctl: Server, prom: Server, repeats: int, out: TextIO) -> list[dict[str, Any]]:
    rows = []
    for q in qs:
        diff = differences(ctl.data(q.path, q.params), prom.data(q.path, q.params))  # and the warm-up
        if diff:
            print(f"DIFFERS ({q.kind}) {q.expr}:\n  " + "\n  ".join(diff), file=sys.stderr)
        times = time_query(q, [ctl, prom], repeats)
        c, p = median(times["controller"]), median(times["prometheus"])
        rows.append(
            {
                "kind": q.kind,
                "query": q.expr,
                "controller_ms": round(c * 1000, 2),
                "prometheus_ms": round(p * 1000, 2),
                "ratio": round(c / p, 2),
                "same_result": not diff,
                "differences": diff,
            }
        )
        print(f"{q.kind:9} {q.expr:58} {c * 1000:9.1f} ms {p * 1000:8.1f} ms {c / p:6.1f}", file=out, flush=True)
    return rows


# the run ------------------------------------------------------------------------


def build_data(shape: Shape, work: Path) -> dict[str, Any]:
    """Both copies of the samples; seconds each took."""
    t0 = time.perf_counter()
    stored = asyncio.run(load_controller(shape, work / "c"))
    t1 = time.perf_counter()
    om = work / "data.om"
    lines = write_openmetrics(shape, om)
    (work / "tsdb").mkdir()
    subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(om), str(work / "tsdb")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    om.unlink()
    t2 = time.perf_counter()
    if stored != lines:
        raise SystemExit(f"the controller stored {stored} samples, Prometheus got {lines}")
    return {"samples": stored, "load_controller_s": round(t1 - t0, 1), "load_prometheus_s": round(t2 - t1, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not (PROMETHEUS.exists() and PROMTOOL.exists()):
        raise SystemExit("needs Debian's Prometheus: apt-get install -y prometheus")
    work = Path(tempfile.mkdtemp(prefix="bench-query-api-"))
    end_s = int(time.time()) // 60 * 60 - 60  # a whole minute, within raw retention and before "now"
    shape = Shape(args.hosts, end_s, args.minutes, args.resolution, args.seed)
    procs: list[subprocess.Popen[bytes]] = []
    out = sys.stderr if args.json else sys.stdout
    try:
        loaded = build_data(shape, work)
        print(f"loaded {loaded}", file=out, flush=True)
        ctl_proc, ctl = start_controller(work / "c", work)
        procs.append(ctl_proc)
        prom_proc, prom = start_prometheus(work / "tsdb", work)
        procs.append(prom_proc)
        series = args.hosts * (CPUS * len(MODES) + 3)
        counts = {s.name: series_count(s, end_s) for s in (ctl, prom)}
        if counts != {"controller": series, "prometheus": series}:
            raise SystemExit(f"expected {series} series at the end of the window, got {counts}")
        print(f"{'':9} {'query':58} {'controller':>12} {'prometheus':>11}  ratio", file=out, flush=True)
        rows = compare(queries(end_s), ctl, prom, args.repeats, out)
        same = [r["ratio"] for r in rows if r["same_result"]]
        return {
            "hosts": args.hosts,
            "series": series,
            "window_minutes": args.minutes,
            "resolution_s": args.resolution,
            **loaded,
            "range_s": RANGE_S,
            "step_s": STEP_S,
            "repeats": args.repeats,
            "prometheus_version": subprocess.run(
                [str(PROMETHEUS), "--version"], capture_output=True, text=True
            ).stdout.split("\n")[0],
            "queries": rows,
            "differing_queries": [f"{r['kind']} {r['query']}" for r in rows if not r["same_result"]],
            "ratio_geomean": round(geomean(same), 2),
            "ratio_geomean_instant": round(
                geomean([r["ratio"] for r in rows if r["same_result"] and r["kind"] == "instant"]), 2
            ),
            "ratio_geomean_range": round(
                geomean([r["ratio"] for r in rows if r["same_result"] and r["kind"] == "range"]), 2
            ),
        }
    finally:
        tear_down(procs, work)


def tear_down(procs: list[subprocess.Popen[bytes]], work: Path) -> None:
    """Stop the servers; remove the work directory unless BENCH_KEEP is set."""
    for p in procs:
        stop(p)
    if os.environ.get("BENCH_KEEP"):
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, default=400, help="2,000 takes over 10 minutes: see above")
    p.add_argument("--minutes", type=int, default=60, help="window of samples, ending a minute before now")
    p.add_argument("--resolution", type=int, default=15, help="seconds between a series' samples")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per query per server")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print only the JSON object")
    args = p.parse_args()
    doc = run(args)
    save("query_api", doc)
    if args.json:
        print(json.dumps(doc))
    else:
        for k, v in doc.items():
            if k != "queries":
                print(f"{k:22} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
