"""``/sys/class/net/<iface>``: node_exporter's netclass collector.

An attribute the device cannot give (``carrier`` of a device that is down,
``speed`` of a virtual one) is left out, as node_exporter leaves it out.
"""

from __future__ import annotations

import os
import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, parse_go_int, read_text

# (sysfs attribute, name suffix, kind), in node_exporter's order
_PROPERTIES = (
    ("addr_assign_type", "address_assign_type", "gauge"),
    ("carrier", "carrier", "gauge"),
    ("carrier_changes", "carrier_changes_total", "counter"),
    ("carrier_up_count", "carrier_up_changes_total", "counter"),
    ("carrier_down_count", "carrier_down_changes_total", "counter"),
    ("dev_id", "device_id", "gauge"),
    ("dormant", "dormant", "gauge"),
    ("flags", "flags", "gauge"),
    ("ifindex", "iface_id", "gauge"),
    ("iflink", "iface_link", "gauge"),
    ("link_mode", "iface_link_mode", "gauge"),
    ("mtu", "mtu_bytes", "gauge"),
    ("name_assign_type", "name_assign_type", "gauge"),
    ("netdev_group", "net_dev_group", "gauge"),
    ("speed", "speed_bytes", "gauge"),
    ("tx_queue_len", "transmit_queue_length", "gauge"),
    ("type", "protocol_type", "gauge"),
)
_INFO = ("address", "broadcast", "duplex", "operstate", "ifalias")
SPEED_BYTES_PER_MBIT = 1_000_000 // 8


def devices(paths: Paths) -> list[str]:
    """The entries of /sys/class/net that are not plain files (``bonding_masters`` is one)."""
    try:
        with os.scandir(paths.in_sys("class", "net")) as it:
            return sorted(e.name for e in it if not e.is_file(follow_symlinks=False))
    except OSError:
        return []


def read_netclass(paths: Paths, ignored: str | None = None) -> list[Family]:
    up = Family("node_network_up", "gauge", "Value is 1 if operstate is 'up', 0 otherwise.")
    info = Family("node_network_info", "gauge", "Non-numeric data from /sys/class/net/<iface>, value is always 1.")
    props = [Family(f"node_network_{name}", kind, f"Network device property: {name}") for _, name, kind in _PROPERTIES]
    skip = re.compile(ignored) if ignored else None
    for dev in devices(paths):
        if skip is not None and skip.search(dev):
            continue
        base = paths.in_sys("class", "net", dev)
        text = {attr: (read_text(os.path.join(base, attr)) or "").strip() for attr in _INFO}
        up.add(1.0 if text["operstate"] == "up" else 0.0, ("device", dev))
        info.add(1.0, ("address", text["address"]), ("broadcast", text["broadcast"]), ("device", dev),
                 ("duplex", text["duplex"]), ("ifalias", text["ifalias"]), ("operstate", text["operstate"]))  # fmt: skip
        for (attr, _, _), fam in zip(_PROPERTIES, props, strict=True):
            raw = read_text(os.path.join(base, attr))
            value = parse_go_int(raw) if raw is not None else None
            if value is None:
                continue
            fam.add(value * SPEED_BYTES_PER_MBIT if attr == "speed" else value, ("device", dev))
    return [up, info, *props]
