"""Switchman's wire contract (``switchman.v1``) and the helpers every side needs.

* :mod:`switchman.proto.v1` -- generated protobuf and gRPC code.
* :mod:`switchman.proto.channel` -- the one place channels and servers are made
  (TLS material, message size limits, keepalive).
* :mod:`switchman.proto.durations` -- Prometheus-style durations.
* :mod:`switchman.proto.validate` -- names and label checks shared by both daemons.
* :mod:`switchman.proto.daemon` -- logging and systemd notify for both daemons.
"""

__version__ = "0.1.0"
