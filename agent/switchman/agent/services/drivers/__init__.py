"""Drivers run one slot of a service: ``process`` (supervised local process),
``docker`` and ``podman`` (containers through the engine's CLI);
:class:`~switchman.agent.services.drivers.registry.Drivers` picks one by the
spec's ``driver``."""

from switchman.agent.services.drivers.base import Driver, SlotProcess, SlotRun

__all__ = ["Driver", "SlotProcess", "SlotRun"]
