"""The agent's exceptions. Each class names the gRPC status code it becomes
(``code``); :func:`switchman.agent.rpc.status_for` is the one place that
reads it, for these and for the shared distribution's errors below.

::

    AgentError                     INTERNAL
    ├── SpoolError                 INTERNAL             the spool database cannot be opened or written
    ├── UnknownProbe               NOT_FOUND            no probe of that name runs here
    ├── ServiceError               (services/errors.py)
    │   ├── InvalidService         INVALID_ARGUMENT     bad spec, unknown driver, command not found, port in use
    │   ├── UnknownService         NOT_FOUND            a service this agent does not run
    │   ├── SwitchInProgress       ABORTED              one switch, rollback or stop per service at a time
    │   └── SwitchFailed           FAILED_PRECONDITION  the new slot never became healthy; traffic unchanged
    └── FaultError                 (faults/errors.py)
        ├── InvalidFault           INVALID_ARGUMENT     nothing recorded or applied; the message names the field
        ├── UnknownFault           NOT_FOUND            a fault id this agent never recorded
        └── FaultFailed            FAILED_PRECONDITION  applying failed; what was applied is reverted

From ``switchman.proto`` (shared with the controller and the CLI), mapped in
the same place::

    ProbeError                     INVALID_ARGUMENT     a probe table that cannot be used
    SpecError                      INVALID_ARGUMENT     a service spec that cannot be used
    ValidationError                INVALID_ARGUMENT     a name, label or version that breaks the shared rules
    ConfigError                    -                    start-up and SIGHUP only: main.py prints it, reload logs it
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class AgentError(Exception):
    """Base of the agent's own errors; ``code`` is the status a caller sees."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL


class SpoolError(AgentError):
    """The spool cannot be opened or written."""


class UnknownProbe(AgentError):
    """No probe of that name runs on this agent."""

    code = grpc.StatusCode.NOT_FOUND
