"""The Switchman agent: host metrics, durable telemetry push, and (later) probes,
service slots and chaos faults. The composition root is :mod:`switchman.agent.main`."""

__version__ = "0.1.0"
