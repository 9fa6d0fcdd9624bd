"""Routers flip a service's front port between its slots: ``builtin`` (an
asyncio TCP proxy in the agent) and ``haproxy`` (HAProxy's runtime API)."""

from __future__ import annotations

from typing import Protocol

from switchman.agent.services.routers.requests import SlotRequests


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

    async def set_weights(self, blue: int, green: int) -> None:
        """Split new connections (http: requests) between the slots by weight, 0..100 each; a flip ends it.

        :raises InvalidService: a weight out of range, both 0, or (HAProxy) a refused command.
        """
        ...

    def label(self, slot: str, version: str) -> None:
        """``slot`` runs ``version`` from now on: its request metrics start again under that version."""
        ...

    def request_stats(self) -> list[SlotRequests]:
        """Requests answered per slot and version (``protocol = "http"``; empty for tcp),
        as of the last :meth:`refresh` where they are fetched."""
        ...

    async def retire(self, slot: str) -> None:
        """After a drain: make sure nothing more reaches ``slot``."""
        ...

    async def detach(self) -> None:
        """The agent stops: leave what can keep serving, stop what cannot."""
        ...

    async def stop(self) -> None:
        """Stop routing for good (the service is removed)."""
        ...
