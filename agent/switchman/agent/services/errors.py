"""Service errors; the tree and their status codes are drawn in
:mod:`switchman.agent.errors`."""

from __future__ import annotations

import grpc
from switchman.agent.errors import AgentError


class ServiceError(AgentError):
    """Base of the service errors."""


class InvalidService(ServiceError):
    """A spec, command, port or driver that cannot be used."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class UnknownService(ServiceError):
    """A service this agent does not run."""

    code = grpc.StatusCode.NOT_FOUND


class SwitchInProgress(ServiceError):
    """Another switch of the same service is running."""

    code = grpc.StatusCode.ABORTED


class SwitchFailed(ServiceError):
    """The switch did not complete; traffic stayed where it was."""

    code = grpc.StatusCode.FAILED_PRECONDITION
