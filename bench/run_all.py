"""`make bench`: every benchmark, results printed and written to bench/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = [
    ["agent_footprint.py"],
    ["ingest.py", "--agents", "2000", "--samples", "40", "--interval", "10", "--duration", "30"],
    ["ingest.py", "--agents", "50", "--samples", "40", "--interval", "0", "--duration", "15"],
    ["rules.py", "--hosts", "2000", "--rules", "200", "--cycles", "3"],
    ["rules.py", "--hosts", "2000", "--rules", "200", "--cycles", "3", "--distinct"],
    ["query_api.py", "--hosts", "400", "--minutes", "60", "--resolution", "15", "--repeats", "5"],
    ["console.py", "--hosts", "2000", "--minutes", "10", "--repeats", "40"],
    ["faults.py", "--rounds", "10"],
    ["switch.py", "--seconds", "20", "--router", "builtin"],
    ["switch.py", "--seconds", "20", "--router", "haproxy"],
    ["router.py", "--seconds", "10", "--rounds", "3"],
]


def main() -> int:
    failed = 0
    for run in RUNS:
        print(f"\n== bench/{' '.join(run)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / run[0]), *run[1:]]).returncode != 0
    print(f"\nresults in {HERE / 'results'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
