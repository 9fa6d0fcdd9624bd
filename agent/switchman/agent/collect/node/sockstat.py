"""``/proc/net/sockstat`` and ``sockstat6``: node_exporter's sockstat collector.

One gauge per protocol and state (``node_sockstat_TCP_tw``); ``inuse`` is
always there, the others when the kernel lists them; ``mem`` (pages) also
as ``mem_bytes``.
"""

from __future__ import annotations

import os

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_STATES = ("inuse", "orphan", "tw", "alloc", "mem", "memory")


def _families(text: str, ipv6: bool) -> list[Family]:
    out = []
    for line in text.splitlines():
        head, _, rest = line.partition(":")
        fields = rest.split()
        kv = {fields[i]: int(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}
        if head == "sockets":
            if not ipv6 and "used" in kv:
                out.append(
                    Family.of("node_sockstat_sockets_used", "gauge", "Number of IPv4 sockets in use.", kv["used"])
                )
            continue
        values = [(s, kv.get(s, 0) if s == "inuse" else kv.get(s)) for s in _STATES]
        if "mem" in kv:
            values.append(("mem_bytes", kv["mem"] * PAGE_SIZE))
        out += [
            Family.of(f"node_sockstat_{head}_{state}", "gauge", f"Number of {head} sockets in state {state}.", v)
            for state, v in values
            if v is not None
        ]
    return out


def read_sockstat(paths: Paths) -> list[Family]:
    return [
        *_families(read_text(paths.in_proc("net", "sockstat")) or "", ipv6=False),
        *_families(read_text(paths.in_proc("net", "sockstat6")) or "", ipv6=True),
    ]
