"""Routers flip a service's front port between its slots: ``builtin`` (an
asyncio TCP proxy in the agent) and ``haproxy`` (HAProxy's runtime API)."""

from __future__ import annotations

from typing import Protocol


class Router(Protocol):
    """Flips a service's front port between its slots."""

    @property
    def active_slot(self) -> str | None: ...

    async def start(self) -> None:
        """Listen on the front port (or attach).

        :raises InvalidService: the port or the admin socket cannot be used.
        """
        ...

    async def flip(self, slot: str, host: str, port: int) -> None:
        """New connections (or requests) go to ``slot`` from now on."""
        ...

    def connections(self, slot: str) -> int:
        """Open connections to ``slot`` as of the last :meth:`refresh`."""
        ...

    async def refresh(self) -> None: ...

    async def retire(self, slot: str) -> None:
        """After a drain: make sure nothing more reaches ``slot``."""
        ...

    async def detach(self) -> None:
        """The agent stops: leave what can keep serving, stop what cannot."""
        ...

    async def stop(self) -> None:
        """Stop routing for good (the service is removed)."""
        ...
