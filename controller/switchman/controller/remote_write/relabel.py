"""``write_relabel`` over one series' labels: Prometheus' keep and drop
actions (the source labels' values joined by the separator, a missing label
as the empty string, matched by the fully anchored RE2 pattern)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from switchman.controller.remote_write.config import Action, RelabelRule


def keeps(rules: Sequence[RelabelRule], labels: Mapping[str, str]) -> bool:
    """Whether a series with ``labels`` (``__name__`` included) is sent."""
    for rule in rules:
        value = rule.separator.join(labels.get(name, "") for name in rule.source_labels)
        matched = rule.regex.matches(value)
        if (rule.action is Action.KEEP and not matched) or (rule.action is Action.DROP and matched):
            return False
    return True
