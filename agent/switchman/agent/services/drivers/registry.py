"""Which driver runs a service's slots: the spec's ``driver`` kind looked up
among the drivers this agent offers."""

from __future__ import annotations

from collections.abc import Callable

from switchman.agent.services.drivers.base import Driver
from switchman.agent.services.drivers.container import ContainerDriver
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.errors import InvalidService

CONTAINER_ENGINES = ("docker", "podman")


class Drivers:
    """The process driver it is handed, and one container driver per engine
    made on first use. Called with a kind, as the service manager does."""

    def __init__(self, process: Driver, container: Callable[[str], ContainerDriver] | None = None) -> None:
        self._process = process
        self._container = container or self._default_container
        self._containers: dict[str, ContainerDriver] = {}

    def _default_container(self, engine: str) -> ContainerDriver:
        """Container logs go where the process driver puts its slots' logs
        (``DATA_DIR/logs``), and slot events the same way."""
        if isinstance(self._process, ProcessDriver):
            return ContainerDriver(engine, log_dir=self._process.log_dir, on_event=self._process.on_event)
        return ContainerDriver(engine)

    def __call__(self, kind: str) -> Driver:
        """:raises InvalidService: a kind this agent cannot run."""
        if kind == "process":
            return self._process
        if kind in CONTAINER_ENGINES:
            driver = self._containers.get(kind)
            if driver is None:
                driver = self._containers[kind] = self._container(kind)
            return driver
        raise InvalidService(f"driver {kind!r} is not available on this agent")

    async def refresh(self) -> None:
        """Re-inspect the containers (each collection cycle); the process
        driver measures its slots whenever it is asked."""
        for driver in list(self._containers.values()):
            await driver.refresh()
