"""The Switchman controller: fleet registry, telemetry store, queries, and the
Ops API. The composition root is :mod:`switchman.controller.main`."""

__version__ = "0.1.0"
