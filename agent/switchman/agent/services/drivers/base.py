"""The driver interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SlotRun:
    """What a driver needs to run a slot."""

    service: str
    slot: str  # blue | green
    version: str
    address: str  # the service address the back port binds on
    port: int
    command: tuple[str, ...] = ()
    image: str = ""
    env: dict[str, str] = field(default_factory=dict)
    engine_args: tuple[str, ...] = ()  # containers: global engine flags (`podman --runtime runc ...`)
    run_args: tuple[str, ...] = ()  # containers: extra `run` flags

    def substitute(self, text: str) -> str:
        return (
            text.replace("{version}", self.version)
            .replace("{port}", str(self.port))
            .replace("{address}", self.address)
            .replace("{slot}", self.slot)
        )


@dataclass
class SlotProcess:
    """What runs a slot now, as measured."""

    pid: int = 0
    started_at: float = 0.0  # the process' create time (guards against pid reuse when adopting)
    restarts: int = 0
    rss_bytes: int = 0
    cpu_seconds: float = 0.0
    open_fds: int = 0
    running: bool = False
    last_exit: str = ""


class Driver(Protocol):
    def bind(self, service: str, engine_args: tuple[str, ...]) -> None:
        """How to reach the service's slots (a container engine's global
        flags), before ``stop`` or ``signal`` of a slot this run of the agent
        has not started or adopted. Processes need nothing."""
        ...

    async def start(self, run: SlotRun) -> SlotProcess:
        """Start the slot and supervise it (restart with backoff when it dies).

        :raises InvalidService: the command or image cannot be started.
        """
        ...

    async def stop(self, service: str, slot: str, grace: float) -> None:
        """SIGTERM (or the engine's stop), then kill after ``grace`` seconds. Idempotent."""
        ...

    async def adopt(self, run: SlotRun, pid: int, started_at: float) -> bool:
        """After an agent restart: supervise what already runs. False when it is gone."""
        ...

    def status(self, service: str, slot: str) -> SlotProcess: ...

    async def signal(self, service: str, slot: str, sig: int) -> bool:
        """Send ``sig`` to the slot (its process group, or the engine's kill/pause). False when not running."""
        ...

    async def close(self) -> None:
        """Stop supervising (the agent exits); slots keep running."""
        ...
