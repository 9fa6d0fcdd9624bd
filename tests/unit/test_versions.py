"""One version rule on every side: the agent refuses what the controller
refuses (control characters included), with the same message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.services.drivers.base import Driver
from switchman.agent.services.errors import InvalidService
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.state import StateStore
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.services import parse_toml
from switchman.proto.validate import ValidationError, check_version

BAD = ["", "2\r", "2\x00", "2\n", "2\t", "2 beta", "2/3", "2\\3", "\x1b[31m", "v" * 129]
SPEC = """name = "hello"
command = ["/bin/true"]
front_port = 18080
back_ports = { blue = 18081, green = 18082 }
"""


@pytest.mark.parametrize("version", ["1", "2.0.1-rc.1+build.7", "v" * 128, "ünïcode"])
def test_a_version_of_printable_characters_is_accepted(version: str) -> None:
    assert check_version(version) == version


@pytest.mark.parametrize("version", BAD)
def test_a_version_with_a_control_character_a_space_or_a_slash_is_refused(version: str) -> None:
    with pytest.raises(ValidationError) as exc:
        check_version(version)
    assert str(exc.value) == (f"version {version!r}: must be 1 to 128 printable characters without spaces or slashes")


def _no_driver(kind: str) -> Driver:
    raise AssertionError(f"a refused version must not reach the {kind} driver")


@pytest.mark.parametrize("version", ["2\r", "2\x00", "2 beta"])
def test_the_agent_refuses_a_version_with_a_control_character_before_starting_anything(
    tmp_path: Path, version: str
) -> None:
    buffer = TelemetryBuffer()
    store = StateStore(tmp_path / "services.db")
    manager = ServiceManager(store, _no_driver, "127.0.0.1", buffer, ProbeRunner(buffer), tmp_path / "routers")
    try:
        with pytest.raises(InvalidService) as exc:
            asyncio.run(asyncio.wait_for(manager.switch(parse_toml(SPEC, "hello.toml"), version), 5))
        assert str(exc.value) == f"version {version!r}: must be 1 to 128 printable characters without spaces or slashes"
        assert store.get("hello") is None and not manager.routers
    finally:
        store.close()
