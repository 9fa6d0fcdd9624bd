"""The agent's exceptions.

::

    AgentError
    ├── ConfigError          (from switchman.proto.settings; bad file or flag)
    ├── SpoolError           the spool database cannot be opened or written
    └── NotFoundError        an id the agent does not know
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of the agent's own errors."""


class SpoolError(AgentError):
    """The spool cannot be opened or written."""


class NotFoundError(AgentError):
    """An id (service, fault, probe) the agent does not know."""
