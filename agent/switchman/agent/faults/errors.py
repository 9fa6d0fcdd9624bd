"""Fault errors; the tree and their status codes are drawn in
:mod:`switchman.agent.errors`."""

from __future__ import annotations

import grpc
from switchman.agent.errors import AgentError


class FaultError(AgentError):
    """Base of the fault errors."""


class InvalidFault(FaultError):
    """A fault that must not be applied; the message says which field and why."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class UnknownFault(FaultError):
    """A fault id this agent has no record of."""

    code = grpc.StatusCode.NOT_FOUND


class FaultFailed(FaultError):
    """Applying the fault failed; whatever was applied was reverted."""

    code = grpc.StatusCode.FAILED_PRECONDITION
