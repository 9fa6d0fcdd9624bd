"""Connection tracking (netfilter): node_exporter's conntrack collector.

Entries and the limit come from ``/proc/sys/net/netfilter``; the statistics
are the per-CPU hex counters of ``/proc/net/stat/nf_conntrack`` summed, as
node_exporter exports them (gauges).
"""

from __future__ import annotations

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

# column in /proc/net/stat/nf_conntrack -> (name suffix, help)
_STATS = (
    (2, "found", "Number of searched entries which were successful."),
    (4, "invalid", "Number of packets seen which can not be tracked."),
    (5, "ignore", "Number of packets seen which are already connected to a conntrack entry."),
    (8, "insert", "Number of entries inserted into the list."),
    (9, "insert_failed", "Number of entries for which list insertion was attempted but failed."),
    (10, "drop", "Number of packets dropped due to conntrack failure."),
    (11, "early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached."),
    (16, "search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes."),
)  # fmt: skip
_COLUMNS = 17


def _stat_sums(text: str) -> list[int] | None:
    sums = [0] * _COLUMNS
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) != _COLUMNS:
            return None
        for i, field in enumerate(fields):
            sums[i] += int(field, 16)
    return sums


def read_conntrack(paths: Paths) -> list[Family]:
    entries = Family(
        "node_nf_conntrack_entries", "gauge", "Number of currently allocated flow entries for connection tracking."
    )
    limit = Family("node_nf_conntrack_entries_limit", "gauge", "Maximum size of connection tracking table.")
    stats = [Family(f"node_nf_conntrack_stat_{name}", "gauge", text) for _, name, text in _STATS]
    count = read_text(paths.in_proc("sys", "net", "netfilter", "nf_conntrack_count"))
    maximum = read_text(paths.in_proc("sys", "net", "netfilter", "nf_conntrack_max"))
    if count is None or maximum is None:
        return [entries, limit, *stats]
    entries.add(float(count))
    limit.add(float(maximum))
    stat_text = read_text(paths.in_proc("net", "stat", "nf_conntrack"))
    sums = _stat_sums(stat_text) if stat_text is not None else None
    if sums is not None:
        for (column, _, _), fam in zip(_STATS, stats, strict=True):
            fam.add(sums[column])
    return [entries, limit, *stats]
