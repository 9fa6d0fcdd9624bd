"""Service errors, mapped to gRPC codes by the Agent servicer.

::

    ServiceError
    ├── InvalidService     -> INVALID_ARGUMENT (bad spec, unknown driver, command not found, port in use)
    ├── UnknownService     -> NOT_FOUND
    ├── SwitchInProgress   -> ABORTED (one switch per service at a time)
    └── SwitchFailed       -> FAILED_PRECONDITION (the new slot never became healthy; traffic unchanged)
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the service errors."""


class InvalidService(ServiceError):
    """A spec, command, port or driver that cannot be used."""


class UnknownService(ServiceError):
    """A service this agent does not run."""


class SwitchInProgress(ServiceError):
    """Another switch of the same service is running."""


class SwitchFailed(ServiceError):
    """The switch did not complete; traffic stayed where it was."""
