"""The controller's exceptions, mapped to gRPC status codes in one place
(:func:`switchman.controller.server.status_for`).

::

    ControllerError
    ├── InvalidArgument     -> INVALID_ARGUMENT   (bad request field, bad expression)
    ├── NotFound            -> NOT_FOUND          (unknown host, id)
    ├── Conflict            -> FAILED_PRECONDITION (e.g. batch overlaps what is committed)
    ├── Unauthenticated     -> UNAUTHENTICATED
    ├── PermissionDenied    -> PERMISSION_DENIED
    └── Unavailable         -> UNAVAILABLE        (still starting)

    store.abc.StoreFull     -> RESOURCE_EXHAUSTED (the disk under the database is full;
                                                   agents keep their batches and retry)
"""

from __future__ import annotations


class ControllerError(Exception):
    """Base of the controller's own errors."""


class InvalidArgument(ControllerError):
    """A request field or expression that cannot be used."""


class NotFound(ControllerError):
    """An id the controller does not know."""


class Conflict(ControllerError):
    """The request does not fit the current state."""


class Unauthenticated(ControllerError):
    """No or unknown credentials."""


class PermissionDenied(ControllerError):
    """Credentials whose role may not do this."""


class Unavailable(ControllerError):
    """The controller cannot answer yet (it is starting)."""
