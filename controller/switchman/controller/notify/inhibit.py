"""Inhibition rules (Alertmanager semantics): a firing alert matching the
source matchers mutes alerts matching the target matchers that carry the same
values for every ``equal`` label. An alert never inhibits itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switchman.controller.notify.matchers import MatcherError, matches_all, parse_matcher
from switchman.controller.promql.ast import Matcher


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def inhibits(self, target: Mapping[str, str], firing: Sequence[Mapping[str, str]]) -> bool:
        if not matches_all(self.target, target):
            return False
        for src in firing:
            if dict(src) == dict(target) or not matches_all(self.source, src):
                continue
            if all(src.get(k, "") == target.get(k, "") for k in self.equal):
                return True
        return False


def parse_inhibit_rules(tables: Sequence[Mapping[str, object]], source: str) -> list[InhibitRule]:
    """``[[inhibit_rules]]`` tables: ``source_matchers``, ``target_matchers``, ``equal``.

    :raises ValueError: naming the file, the table and the key.
    """
    out = []
    for i, t in enumerate(tables):
        where = f"{source}: inhibit_rules[{i}]"
        unknown = set(t) - {"source_matchers", "target_matchers", "equal"}
        if unknown:
            raise ValueError(
                f"{where}: unknown key {sorted(unknown)[0]!r} (known: equal, source_matchers, target_matchers)"
            )
        lists: dict[str, list[str]] = {}
        for key in ("source_matchers", "target_matchers", "equal"):
            v = t.get(key, [])
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"{where}: key {key!r}: expected a list of strings")
            lists[key] = [str(x) for x in v]
        if not lists["source_matchers"] or not lists["target_matchers"]:
            raise ValueError(f"{where}: source_matchers and target_matchers must both be given")
        try:
            src = tuple(parse_matcher(m) for m in lists["source_matchers"])
            tgt = tuple(parse_matcher(m) for m in lists["target_matchers"])
        except MatcherError as exc:
            raise ValueError(f"{where}: {exc}") from None
        out.append(InhibitRule(src, tgt, tuple(lists["equal"])))
    return out


def inhibited(rules: Sequence[InhibitRule], target: Mapping[str, str], firing: Sequence[Mapping[str, str]]) -> bool:
    return any(r.inhibits(target, firing) for r in rules)
