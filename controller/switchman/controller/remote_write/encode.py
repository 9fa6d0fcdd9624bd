"""The remote-write 1.0 body: a ``prometheus.WriteRequest`` protobuf,
snappy-compressed in the block format (not the framed one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cramjam
from switchman.controller.remote_write import remote_pb2

LabelPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SeriesBatch:
    """One series' samples for one request: labels sorted by name with
    ``__name__``, (timestamp ms, value) in timestamp order."""

    labels: LabelPairs
    samples: Sequence[tuple[int, float]]


def write_request(batches: Sequence[SeriesBatch]) -> remote_pb2.WriteRequest:
    req = remote_pb2.WriteRequest()
    for b in batches:
        ts = req.timeseries.add()
        for name, value in b.labels:
            label = ts.labels.add()
            label.name, label.value = name, value
        for t, v in b.samples:
            sample = ts.samples.add()
            sample.timestamp, sample.value = t, v
    return req


def encode(batches: Sequence[SeriesBatch]) -> bytes:
    """The HTTP body for ``batches``."""
    return bytes(cramjam.snappy.compress_raw(write_request(batches).SerializeToString()))


def decode(body: bytes) -> remote_pb2.WriteRequest:
    """The inverse of :func:`encode` (tests, and whoever debugs a body)."""
    req = remote_pb2.WriteRequest()
    req.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
    return req
