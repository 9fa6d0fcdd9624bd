"""Kernel tables under ``/proc/sys``: file handles (node_exporter's filefd
collector) and the entropy pool (its entropy collector)."""

from __future__ import annotations

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text


def read_filefd(paths: Paths) -> list[Family]:
    allocated = Family("node_filefd_allocated", "gauge", "File descriptor statistics: allocated.")
    maximum = Family("node_filefd_maximum", "gauge", "File descriptor statistics: maximum.")
    parts = (read_text(paths.in_proc("sys", "fs", "file-nr")) or "").strip().split("\t")
    if len(parts) >= 3:
        allocated.add(float(parts[0]))
        maximum.add(float(parts[2]))
    return [allocated, maximum]


def read_entropy(paths: Paths) -> list[Family]:
    available = Family("node_entropy_available_bits", "gauge", "Bits of available entropy.")
    pool = Family("node_entropy_pool_size_bits", "gauge", "Bits of entropy pool.")
    avail_text = read_text(paths.in_proc("sys", "kernel", "random", "entropy_avail"))
    pool_text = read_text(paths.in_proc("sys", "kernel", "random", "poolsize"))
    if avail_text is not None and pool_text is not None:
        available.add(float(avail_text))
        pool.add(float(pool_text))
    return [available, pool]
