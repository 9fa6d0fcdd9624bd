"""A slot process an earlier run of the agent started but never recorded
(killed in between) is found and stopped before its slot starts again, so
it cannot keep the slot's port; another agent's processes are left alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from switchman.agent.services.drivers.process import OWNER, ProcessDriver

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def left_running(logs: Path, service: str, slot: str) -> subprocess.Popen[bytes]:
    """A slot process as a killed agent leaves it: in its own session, marked with the agent's owner tag."""
    env = {**os.environ, OWNER: f"{logs}|{service}|{slot}"}
    return subprocess.Popen(SLEEPER, env=env, start_new_session=True)


def test_an_unrecorded_slot_process_of_this_agent_is_stopped_and_another_agents_is_not(tmp_path: Path) -> None:
    orphan = left_running(tmp_path / "a" / "logs", "hello", "blue")
    bystander = left_running(tmp_path / "b" / "logs", "hello", "blue")
    try:

        async def main() -> None:
            restarted = ProcessDriver(tmp_path / "a" / "logs")
            assert [p.pid for p in await asyncio.to_thread(restarted.orphans, "hello", "blue")] == [orphan.pid]
            assert await asyncio.to_thread(restarted.orphans, "hello", "green") == []
            await restarted.stop("hello", "blue", 2.0)

        asyncio.run(asyncio.wait_for(main(), 30))
        assert orphan.wait(5) is not None, "the orphan was stopped"
        assert bystander.poll() is None, "another agent's slot keeps running"
    finally:
        for p in (orphan, bystander):
            p.kill()
            p.wait(5)
