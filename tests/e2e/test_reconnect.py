"""An agent whose backoff grew during a long controller outage comes back
within a few seconds of the controller answering again: while it
waits it asks the controller's health service, and retries (with jitter)
once the controller turns serving after it was down."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import Daemon, agent_argv, controller_argv, free_port, wait_until

pytestmark = pytest.mark.slow


def test_agent_reconnects_within_seconds_after_a_long_controller_outage(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()
    controller = Daemon(controller_argv(tmp_path / "c", port), tmp_path / "c.log")
    daemons.append(controller.start())
    agent = Daemon(agent_argv(tmp_path / "a", port, "127.0.0.71", "web-1", "--interval", "1s"), tmp_path / "a.log")
    daemons.append(agent.start())
    wait_until(lambda: agent.log().count("registered with the controller") == 1, 20, what="the first registration")

    controller.kill9()
    # long enough for the backoff (0.5 s doubling with jitter, cap 30 s) to reach 16 to 30 s between attempts
    wait_until(lambda: agent.log().count("controller unreachable") >= 1, 10, what="the agent noticing")
    time.sleep(30)  # the outage itself, not a wait for a condition
    again = Daemon(controller.argv, tmp_path / "c2.log")
    daemons.append(again.start())
    wait_until(lambda: "controller serving" in again.log(), 20, what="the controller serving again")
    back = time.monotonic()
    wait_until(lambda: agent.log().count("registered with the controller") == 2, 20, 0.05, what="re-registration")
    took = time.monotonic() - back
    # (the agent logs "the controller serves again" when it comes back this way; its own backoff timer may
    # also happen to fire first, so the time is what is asserted)
    # a probe a second, then the comeback jitter (COMEBACK_JITTER_S, 4 s), then registering
    assert took < 7.0, f"the agent took {took:.1f}s to come back (its backoff had grown to 16-30 s)"
