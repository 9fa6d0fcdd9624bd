"""``/proc/net/netstat``, ``snmp`` and ``snmp6``: node_exporter's netstat
collector, with its default field filter (the counters the mixin and the
dashboards read), untyped as node_exporter exports them."""

from __future__ import annotations

import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

DEFAULT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
    r"|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)"
    r"|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
    r"|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)

Stats = dict[str, dict[str, str]]


def parse_pairs(text: str) -> Stats:
    """``Proto: name name...`` / ``Proto: value value...`` line pairs."""
    out: Stats = {}
    lines = text.splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        keys, vals = names.split(" "), values.split(" ")
        if len(keys) != len(vals):
            continue
        out[keys[0].rstrip(":")] = dict(zip(keys[1:], vals[1:], strict=True))
    return out


def parse_snmp6(text: str) -> Stats:
    """``Ip6InOctets 256`` lines: the protocol is the name up to its first ``6``."""
    out: Stats = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or "6" not in fields[0]:
            continue
        proto, _, name = fields[0].partition("6")
        out.setdefault(proto + "6", {})[name] = fields[1]
    return out


def read_netstat(paths: Paths, fields: str = DEFAULT_FIELDS) -> list[Family]:
    netstat = read_text(paths.in_proc("net", "netstat"))
    snmp = read_text(paths.in_proc("net", "snmp"))
    if netstat is None or snmp is None:
        return []
    stats = parse_pairs(netstat)
    stats.update(parse_pairs(snmp))
    stats.update(parse_snmp6(read_text(paths.in_proc("net", "snmp6")) or ""))
    pattern = re.compile(fields)
    return [
        Family.of(f"node_netstat_{proto}_{name}", "untyped", f"Statistic {proto}{name}.", float(value))
        for proto, values in stats.items()
        for name, value in values.items()
        if pattern.search(f"{proto}_{name}")
    ]
