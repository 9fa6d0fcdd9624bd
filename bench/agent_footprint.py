"""Agent footprint beside node_exporter, measured in the same run (SPEC 10).

    python bench/agent_footprint.py [--seconds 20] [--scrapes 60] [--json]

Starts a real controller, a real agent (collecting every second) and
Debian's prometheus-node-exporter. Reports the agent's steady RSS, CPU per
collection cycle (the collector's own thread CPU, and the whole process per
cycle including push and heartbeat), node_exporter's CPU per scrape, and
the median ``/metrics`` latency of both, scraped alternately.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
import psutil
from switchman.proto.channel import create_channel
from switchman.proto.services import parse_toml, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc

from bench.common import BIN, ROOT, free_port, median, report, start, wait_for

ADDRESS = "127.0.0.42"
PROBES = """
[[probe]]
name = "self-metrics"
kind = "tcp"
address = "127.0.0.1:22"
interval = "10s"
[[probe]]
name = "true"
kind = "exec"
command = ["true"]
interval = "10s"
[[probe]]
name = "loopback-http"
kind = "http"
url = "http://127.0.0.42:1/"
interval = "10s"
"""
PROBE_ON_FRONT = """
[[probe]]
name = "front-{i}"
kind = "http"
address = "127.0.0.42:{port}"
path = "/health"
interval = "10s"
"""


async def start_services(agent_port: int) -> list[int]:
    """Two services of the sample app, switched in through the Agent RPC."""
    channel = create_channel(f"{ADDRESS}:{agent_port}", None)
    stub = agent_pb2_grpc.AgentStub(channel)
    fronts = []
    for name in ("web", "api"):
        front, blue, green = free_port(ADDRESS), free_port(ADDRESS), free_port(ADDRESS)
        spec = parse_toml(SERVICE.format(name=name, py=sys.executable, app=APP, front=front, blue=blue, green=green))
        await stub.Switch(agent_pb2.SwitchRequest(spec=to_proto(spec), version="1"), timeout=60)
        fronts.append(front)
    await channel.close(None)
    return fronts


APP = ROOT / "examples" / "hello" / "app.py"
SERVICE = """
name = "{name}"
command = ["{py}", "{app}", "--version", "{{version}}", "--host", "{{address}}", "--port", "{{port}}"]
front_port = {front}
back_ports = {{ blue = {blue}, green = {green} }}
[probe]
kind = "http"
path = "/health"
interval = "10s"
"""


def scrape(url: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=10).read().decode()
    return time.perf_counter() - t0, body


def metric(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)


def cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return float(t.user + t.system)


def stop_slots(work: Path) -> None:
    """Kill the service slots this run's agent started (their environment names its data directory),
    and nothing else's."""
    for p in psutil.process_iter():
        try:
            if p.environ().get("SWITCHMAN_SLOT_OWNER", "").startswith(str(work)):
                p.kill()
        except psutil.Error:
            continue


def run(args: argparse.Namespace) -> dict[str, Any]:
    node_exporter = shutil.which("prometheus-node-exporter")
    if node_exporter is None:
        raise SystemExit("prometheus-node-exporter is not installed: run `make system-deps` (Debian package)")
    work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    cport, aport, nport = free_port(), free_port(), free_port()
    procs = []
    try:
        ctl = start(
            [
                str(BIN / "switchman-controller"),
                "--insecure",
                "--listen",
                f"127.0.0.1:{cport}",
                "--data-dir",
                str(work / "c"),
                "--metrics-listen",
                "",
                "--http-listen",
                "",
            ],
            work / "c.log",
        )
        procs.append(ctl)
        gport = free_port(ADDRESS)
        (work / "agent.toml").write_text(PROBES)
        agent = start(
            [
                str(BIN / "switchman-agent"),
                "--config",
                str(work / "agent.toml"),
                "--insecure",
                "--controller",
                f"127.0.0.1:{cport}",
                "--listen",
                f"{ADDRESS}:{gport}",
                "--data-dir",
                str(work / "a"),
                "--host-id",
                "bench",
                "--interval",
                "1s",
                "--metrics-listen",
                f"127.0.0.1:{aport}",
            ],
            work / "a.log",
        )
        procs.append(agent)
        ne = start([node_exporter, f"--web.listen-address=127.0.0.1:{nport}"], work / "ne.log")
        procs.append(ne)
        a_url, n_url = f"http://127.0.0.1:{aport}/metrics", f"http://127.0.0.1:{nport}/metrics"

        def reachable() -> bool:
            try:
                scrape(a_url)
                scrape(n_url)
                return True
            except OSError:
                return False

        wait_for(reachable, 30, "agent and node_exporter endpoints")
        fronts = asyncio.run(start_services(gport))
        (work / "agent.toml").write_text(
            PROBES + "".join(PROBE_ON_FRONT.format(i=i, port=p) for i, p in enumerate(fronts))
        )
        agent.send_signal(signal.SIGHUP)  # 3 + 2 = 5 probes, two of them on the services' front ports
        time.sleep(5)  # warm-up: registration, first pushes, probes running

        # 1. quiet window: the agent only collects and pushes
        ap = psutil.Process(agent.pid)
        _, body0 = scrape(a_url)
        cpu0, rss = cpu(ap), []
        t_end = time.monotonic() + args.seconds
        while time.monotonic() < t_end:
            rss.append(ap.memory_info().rss)
            time.sleep(1)
        cpu1 = cpu(ap)
        _, body1 = scrape(a_url)
        cycles = metric(body1, "switchman_agent_collect_cycles_total") - metric(
            body0, "switchman_agent_collect_cycles_total"
        )
        collect_cpu = metric(body1, "switchman_agent_collect_cpu_seconds_total") - metric(
            body0, "switchman_agent_collect_cpu_seconds_total"
        )
        # the two scrapes in the window cost CPU too; measure one and take it out
        s0 = cpu(ap)
        scrape(a_url)
        one_scrape = cpu(ap) - s0

        # 2. scrapes, alternating, node_exporter's CPU per scrape
        npc = psutil.Process(ne.pid)
        a_lat, n_lat = [], []
        n0 = cpu(npc)
        for _ in range(args.scrapes):
            a_lat.append(scrape(a_url)[0])
            n_lat.append(scrape(n_url)[0])
        ne_cpu_per_scrape = (cpu(npc) - n0) / args.scrapes
        _, nbody = scrape(n_url)
        _, abody = scrape(a_url)
        return {
            "agent_rss_mib": round(median([float(r) for r in rss]) / 2**20, 1),
            "agent_probes": int(metric(body1, "switchman_agent_probes")),
            "agent_services": 2,
            "collect_cycles": int(cycles),
            "agent_collect_cpu_ms_per_cycle": round(collect_cpu / cycles * 1000, 3),
            "agent_process_cpu_ms_per_cycle": round((cpu1 - cpu0 - 2 * one_scrape) / cycles * 1000, 3),
            "node_exporter_cpu_ms_per_scrape": round(ne_cpu_per_scrape * 1000, 3),
            "agent_scrape_median_ms": round(median(a_lat) * 1000, 2),
            "node_exporter_scrape_median_ms": round(median(n_lat) * 1000, 2),
            "scrape_ratio_agent_to_node_exporter": round(median(a_lat) / median(n_lat), 3),
            "agent_series": sum(1 for line in abody.splitlines() if line and not line.startswith("#")),
            "node_exporter_series": sum(1 for line in nbody.splitlines() if line and not line.startswith("#")),
        }
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except Exception:
                p.kill()
        stop_slots(work)  # the slots outlive the agent by design
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0, help="quiet window for RSS and CPU per cycle")
    p.add_argument("--scrapes", type=int, default=60)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    doc = run(args)
    report("agent_footprint", doc, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
