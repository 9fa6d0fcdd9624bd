"""Interface counters: node_exporter's netdev collector (legacy names).

node_exporter 1.5 reads them over netlink; ``/proc/net/dev`` has the same
sums under the same legacy names (``receive_drop`` counts missed errors,
``receive_frame`` length, over and CRC errors, ``transmit_carrier`` aborted,
heartbeat and window errors), and ``receive_nohandler``, which only netlink
has besides, comes from ``/sys/class/net/<dev>/statistics/rx_nohandler``.
"""

from __future__ import annotations

import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

# the columns of /proc/net/dev, in order
COLUMNS = (
    "receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo", "receive_frame",
    "receive_compressed", "receive_multicast",
    "transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo", "transmit_colls",
    "transmit_carrier", "transmit_compressed",
)  # fmt: skip
NOHANDLER = "receive_nohandler"


def parse_net_dev(text: str) -> dict[str, list[int]]:
    out = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        values = rest.split()
        if sep and len(values) == len(COLUMNS):
            out[name.strip()] = [int(v) for v in values]
    return out


def read_netdev(paths: Paths, exclude: str | None = None) -> list[Family]:
    fams = {
        key: Family(f"node_network_{key}_total", "counter", f"Network device statistic {key}.")
        for key in (*COLUMNS, NOHANDLER)
    }
    skip = re.compile(exclude) if exclude else None
    for dev, values in parse_net_dev(read_text(paths.in_proc("net", "dev")) or "").items():
        if skip is not None and skip.search(dev):
            continue
        for key, value in zip(COLUMNS, values, strict=True):
            fams[key].add(value, ("device", dev))
        nohandler = read_text(paths.in_sys("class", "net", dev, "statistics", "rx_nohandler"))
        if nohandler is not None and nohandler.strip().isdigit():
            fams[NOHANDLER].add(int(nohandler), ("device", dev))
    return list(fams.values())
