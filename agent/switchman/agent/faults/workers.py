"""CPU and memory faults run in worker processes that end by themselves at
the fault's deadline or as soon as the agent that started them is gone (their
parent changes), so a fault cannot outlive its agent for long even if
nothing reverts it. Each carries ``switchman-fault=ID`` in its command line
so a restarted agent finds them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import psutil

MARK = "switchman-fault="

CPU = """
import os, sys, time
deadline, load, parent = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
period = 0.1
while time.time() < deadline and os.getppid() == parent:
    start = time.perf_counter()
    while time.perf_counter() - start < period * load:
        pass
    if load < 1.0:
        time.sleep(period * (1.0 - load))
"""

MEMORY = """
import os, sys, time
deadline, size, parent = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
try:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")  # if memory runs out, this process goes first
except OSError:
    pass
block = bytearray(size)
for i in range(0, size, 4096):
    block[i] = 1  # touch every page: resident, not just reserved
while time.time() < deadline and os.getppid() == parent:
    time.sleep(0.2)
"""


async def spawn(code: str, fault_id: str, deadline: float, arg: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        str(deadline),
        arg,
        str(os.getpid()),
        f"{MARK}{fault_id}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc.pid


def find(fault_id: str) -> list[psutil.Process]:
    """Every live worker of this fault, whoever its parent is now."""
    mark = f"{MARK}{fault_id}"
    out = []
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if mark in (p.info["cmdline"] or []):
                out.append(p)
    return out


def kill(fault_id: str) -> int:
    """SIGKILL the fault's workers; returns how many were found."""
    procs = find(fault_id)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=2)
    return len(procs)
