"""Service errors, mapped to gRPC codes by the Agent servicer.

::

    ServiceError
    ├── InvalidService     -> INVALID_ARGUMENT (bad spec, unknown driver, command not found, port in use)
    ├── UnknownService     -> NOT_FOUND
    ├── SwitchInProgress   -> FAILED_PRECONDITION (one switch per service at a time)
    └── SwitchFailed       -> FAILED_PRECONDITION (the new slot never became healthy; traffic unchanged)
"""

from __future__ import annotations


class ServiceError(Exception):
    pass


class InvalidService(ServiceError):
    pass


class UnknownService(ServiceError):
    pass


class SwitchInProgress(ServiceError):
    pass


class SwitchFailed(ServiceError):
    pass
