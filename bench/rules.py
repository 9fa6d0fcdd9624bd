"""Rule evaluation benchmark (SPEC 10): 200 rules over 2,000 hosts' series in
the controller's real SQLite store, one evaluation cycle timed.

    python bench/rules.py [--hosts 2000] [--rules 200] [--cycles 3] [--distinct] [--json]

By default the rules repeat six shapes with different thresholds and names,
as warning/critical pairs do, so a group shares selector reads and
range-function results at an instant. ``--distinct`` gives every rule its own
range window, so nothing but the raw reads can be shared: the worst case.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from switchman.controller.alerts.manager import RuleManager
from switchman.controller.store.storage import Storage
from switchman.controller.wiring import Retention, make_evaluator

from bench.common import report

METRICS = ("node_load1", "node_memory_MemAvailable_bytes", "node_cpu_seconds_total", "up", "probe_success")
TEMPLATES = (
    "record: bench:load:max_{i}\n        expr: max by (role) (node_load1)",
    "alert: HighLoad{i}\n        expr: node_load1 > {t}\n        for: 5m\n        labels: {{severity: page}}",
    "alert: CpuBusy{i}\n        expr: rate(node_cpu_seconds_total[5m]) > {t}\n        for: 2m",
    "alert: LowMemory{i}\n        expr: node_memory_MemAvailable_bytes < {t} * 1e9",
    "alert: Down{i}\n        expr: up == 0\n        for: 1m",
    "record: bench:probe:avg_{i}\n        expr: avg by (role) (avg_over_time(probe_success[5m]))",
)


def rule_text(i: int, distinct: bool) -> str:
    text = TEMPLATES[i % len(TEMPLATES)].format(i=i, t=1 + i % 5)
    if distinct:  # every range window different: no two rules compute the same thing
        text = text.replace("[5m]", f"[{120 + i}s]").replace(
            "max by (role) (node_load1)", f"max by (role) (node_load1 offset {1 + i}s)"
        )
        text = text.replace("expr: node_load1 >", f"expr: node_load1 offset {1 + i}s >").replace(
            "expr: up == 0", f"expr: up offset {1 + i}s == 0"
        )
        text = text.replace(
            "expr: node_memory_MemAvailable_bytes <", f"expr: node_memory_MemAvailable_bytes offset {1 + i}s <"
        )
    return text


def populate(storage: Storage, hosts: int, now: int) -> int:

    def job(conn: sqlite3.Connection) -> int:
        rows = []
        for h in range(hosts):
            host = f"host-{h:05d}"
            for name in METRICS:
                labels = (("host", host), ("role", f"r{h % 20}"))
                sid = storage.index.intern(conn, storage.writer, name, labels, host, now)
                for k in range(30):  # 10 minutes at 20 s
                    ts = now - 600_000 + k * 20_000
                    hot = h % 100 == 0  # 1 % of the fleet in trouble, as on a bad day
                    if name == "node_cpu_seconds_total":
                        value = k * (30.0 if hot else 2.0)
                    elif name == "node_memory_MemAvailable_bytes":
                        value = 0.5e9 if hot else 8e9
                    elif name in ("up", "probe_success"):
                        value = 0.0 if hot else 1.0
                    else:
                        value = 9.0 + k % 3 if hot else 0.5 + (k % 5) / 10
                    rows.append((sid, ts, value))
        conn.executemany("INSERT INTO samples (series_id, ts, value) VALUES (?,?,?)", rows)
        return len(rows)

    return int(storage.writer.submit(job).result())


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-rules-"))
    try:
        now = int(time.time() * 1000)
        storage = Storage.open(work / "controller.db")
        samples = populate(storage, args.hosts, now)
        rules = "\n".join("      - " + rule_text(i, args.distinct) for i in range(args.rules))
        (work / "rules.yml").write_text(f"groups:\n  - name: bench\n    interval: 1m\n    rules:\n{rules}\n")
        evaluator = make_evaluator(storage, Retention(), lambda: now)
        manager = RuleManager(storage, evaluator, lambda: now, [str(work / "rules.yml")])
        errors = manager.load()
        if errors:
            raise SystemExit("\n".join(errors))
        times, cpu = [], []
        for _ in range(args.cycles):
            t0, c0 = time.perf_counter(), time.process_time()
            for g in manager.groups:
                asyncio.run(manager.evaluate_group(g))
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        alerts = len(manager.alerts())
        storage.close()
        return {
            "distinct_expressions": args.distinct,
            "hosts": args.hosts,
            "rules": args.rules,
            "series": args.hosts * len(METRICS),
            "samples": samples,
            "cycle_seconds_median": round(statistics.median(times), 3),
            "cycle_seconds_max": round(max(times), 3),
            "cycle_cpu_seconds_median": round(statistics.median(cpu), 3),  # all threads: steadier on a busy machine
            "active_alerts": alerts,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, default=2000)
    p.add_argument("--rules", type=int, default=200)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--distinct", action="store_true", help="no two rules share an expression")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    report("rules", run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
