"""Remote-write: every sample the controller stores, forwarded to
Prometheus remote-write 1.0 receivers (snappy-compressed protobuf
``WriteRequest``), durable from the store.

* ``config`` — ``[[remote_write]]`` tables to :class:`Endpoint` values
* ``relabel`` — ``write_relabel`` keep and drop
* ``encode`` — the body (``remote.proto``, generated ``remote_pb2``)
* ``chunk`` — log rows to shards of requests
* ``client`` — the POST and what its answer means
* ``queue`` — one endpoint: cursor, batching, retries, stats
* ``manager`` — every endpoint's queue and their tasks
* ``metrics`` — the ``switchman_remote_write_*`` families

The log and the cursors are in ``store/sqlite/remote_write.py`` (docs/adr/0016)."""

from __future__ import annotations

from switchman.controller.remote_write.config import Endpoint, parse_endpoints
from switchman.controller.remote_write.manager import RemoteWrite

__all__ = ["Endpoint", "RemoteWrite", "parse_endpoints"]
