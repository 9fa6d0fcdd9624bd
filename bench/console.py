"""Console benchmark: the fleet and alerts pages of a controller holding
2,000 hosts with an alert firing on each, against Debian's Prometheus
answering the page's data queries on the same samples.

    python bench/console.py [--hosts 2000] [--minutes 10] [--repeats 40] [--json]

The samples are the query benchmark's (bench/query_api.py: node_exporter-
shaped series per host, pushed through the controller's own ingest; the
same samples as blocks for Prometheus). The real ``switchman-controller``
starts on them with one alerting rule (``node_load1 >= 0``: an alert per
host), the benchmark logs in as a browser does (GET and POST ``/login``,
the session cookie) and times whole page loads over a kept-alive
connection: the fleet's first and a middle page (50 hosts each, with the
CPU, memory and disk queries for those hosts), and the alerts' first and a
middle page (100 alerts each, out of one alert per host). Each request is
timed on the client (loopback), median and p99 over ``--repeats``.

The peer: Prometheus answering the fleet page's three vitals queries for
the same 50 hosts (``/api/v1/query``, one after another, as the page does
them), so the ratio says what the page costs beyond reading its data.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.controller.console.data import VITALS, alternation

from bench.common import BIN, free_port, median, percentile, report, save, start, wait_for
from bench.query_api import PROMETHEUS, Shape, build_data, ready, start_prometheus, tear_down

RULES = """groups:
  - name: bench
    interval: 5s
    rules:
      - alert: LoadSeen
        expr: node_load1 >= 0
        labels: {severity: ticket}
        annotations: {summary: "{{ $labels.instance }} reports its load"}
"""


class Browser:
    """Page loads over one kept-alive connection, with the session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        for header in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0].strip('"')
            self.cookies[name] = value
        return r.status, data

    def login(self, token: str) -> None:
        status, page = self.request("GET", "/login")
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or found is None:
            raise SystemExit(f"login page: HTTP {status}")
        status, _ = self.request("POST", "/login", {"token": token, "csrf": found.group(1).decode(), "next": "/fleet"})
        if status != 303 or "switchman_session" not in self.cookies:
            raise SystemExit(f"login refused: HTTP {status}")


def time_get(fetch: Any, repeats: int) -> list[float]:
    fetch()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(median(times), 1), "p99_ms": round(percentile(times, 0.99), 1)}


def start_controller(data_dir: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    (work / "rules.yml").write_text(RULES)
    argv = [str(BIN / "switchman-controller"), "--insecure", "--listen", f"127.0.0.1:{free_port()}"]
    argv += ["--data-dir", str(data_dir), "--metrics-listen", "", "--http-listen", f"127.0.0.1:{port}"]
    argv += ["--heartbeat-ttl", "24h", "--rule-file", str(work / "rules.yml")]
    proc = start(argv, work / "controller.log")
    wait_for(lambda: ((data_dir / "admin.token").exists() and ready(port)) or proc.poll() is not None, 60, "controller")
    if proc.poll() is not None:
        raise SystemExit(f"controller exited: {(work / 'controller.log').read_text()[-2000:]}")
    return proc, port


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not PROMETHEUS.exists():
        raise SystemExit("needs Debian's Prometheus: apt-get install -y prometheus")
    work = Path(tempfile.mkdtemp(prefix="bench-console-"))
    end_s = int(time.time()) - 5  # the alert's query must see the samples: they end just now
    shape = Shape(args.hosts, end_s, args.minutes, 15, 7)
    procs: list[subprocess.Popen[bytes]] = []
    out = sys.stderr if args.json else sys.stdout
    try:
        loaded = build_data(shape, work)
        print(f"loaded {loaded}", file=out, flush=True)
        ctl_proc, port = start_controller(work / "c", work)
        procs.append(ctl_proc)
        prom_proc, prom = start_prometheus(work / "tsdb", work)
        procs.append(prom_proc)
        b = Browser(port)
        b.login((work / "c" / "admin.token").read_text().strip())

        def firing() -> bool:
            _, page = b.request("GET", "/alerts")
            return f"{args.hosts} firing".encode() in page

        wait_for(firing, 120, f"{args.hosts} alerts firing")
        middle_fleet, middle_alerts = max(1, args.hosts // 100), max(1, args.hosts // 200)
        pages = {
            "fleet page 1": "/fleet",
            f"fleet page {middle_fleet}": f"/fleet?page={middle_fleet}",
            "alerts page 1": "/alerts",
            f"alerts page {middle_alerts}": f"/alerts?page={middle_alerts}",
        }
        rows: dict[str, Any] = {}
        for name, path in pages.items():

            def fetch(path: str = path) -> None:
                status, body = b.request("GET", path)
                if status != 200 or b"<table" not in body:
                    raise SystemExit(f"{path}: HTTP {status}")

            rows[name] = summary(time_get(fetch, args.repeats))
            print(f"{name:18} {rows[name]['median_ms']:8.1f} ms median {rows[name]['p99_ms']:8.1f} ms p99", file=out)
        hosts = [f"host-{h:05d}" for h in range(50)]
        vitals = [q.format(hosts=alternation(hosts)) for q in VITALS.values()]

        def prometheus_vitals() -> None:
            for q in vitals:
                prom.data("/api/v1/query", {"query": q, "time": str(end_s)})

        peer = summary(time_get(prometheus_vitals, args.repeats))
        print(f"{'prometheus vitals':18} {peer['median_ms']:8.1f} ms median {peer['p99_ms']:8.1f} ms p99", file=out)
        fleet = rows["fleet page 1"]["median_ms"]
        return {
            "hosts": args.hosts,
            "alerts": args.hosts,
            "window_minutes": args.minutes,
            "repeats": args.repeats,
            **loaded,
            "pages": rows,
            "prometheus_vitals_queries": peer,
            "fleet_page_vs_prometheus_queries": round(fleet / peer["median_ms"], 2) if peer["median_ms"] else None,
            "worst_p99_ms": max(r["p99_ms"] for r in rows.values()),
        }
    finally:
        tear_down(procs, work)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    doc = run(args)
    save("console", doc)
    report("console", doc, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
