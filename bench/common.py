"""Shared by the benchmarks: results files, percentiles, process helpers."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def save(name: str, doc: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host_cpus": os.cpu_count(),
        **doc,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    f = log.open("wb")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    f.close()
    return p


def report(name: str, doc: dict[str, Any], as_json: bool) -> None:
    """Save the figures to bench/results/NAME.json and print them."""
    save(name, doc)
    if as_json:
        print(json.dumps(doc))
    else:
        width = max(len(k) for k in doc) + 2
        for k, v in doc.items():
            print(f"{k:{width}} {v}")


def hello_spec(front: int, blue: int, green: int, router: str = "builtin") -> str:
    """The example service as a spec for an agent's Switch call."""
    app = ROOT / "examples" / "hello" / "app.py"
    return f"""
name = "hello"
command = ["{sys.executable}", "{app}", "--version", "{{version}}", "--host", "{{address}}", "--port", "{{port}}", "--slot", "{{slot}}"]
front_port = {front}
back_ports = {{ blue = {blue}, green = {green} }}
router = "{router}"
drain_timeout = "5s"
[probe]
kind = "http"
path = "/health"
interval = "500ms"
timeout = "500ms"
success_before_passing = 2
"""


def start_agent(work: Path, address: str, port: int) -> subprocess.Popen[bytes]:
    """A real agent (no controller: it spools) serving the Agent service on ``address:port``."""
    agent = start(
        [
            str(BIN / "switchman-agent"),
            "--insecure",
            "--controller",
            f"127.0.0.1:{free_port()}",
            "--listen",
            f"{address}:{port}",
            "--data-dir",
            str(work / "a"),
            "--host-id",
            "bench",
            "--metrics-listen",
            "",
        ],
        work / "agent.log",
    )
    wait_for(lambda: "serving on" in (work / "agent.log").read_text(), 20, "agent start")
    return agent
