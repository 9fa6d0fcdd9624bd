"""Where the evaluator reads samples: the :class:`SampleSource` interface and
the series matching every source shares (the SQLite source is
:class:`switchman.controller.store.sqlite.samples.StoreSource`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from switchman.controller.promql.ast import Matcher, MatchOp
from switchman.controller.promql.values import Series
from switchman.controller.store.series import SeriesIndex, SeriesInfo


class SampleSource(Protocol):
    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        """Every series matching all ``matchers`` (``__name__`` included) with
        its samples in ``[start_ms, end_ms]``, in time order. Series with no
        sample in the window are left out."""
        ...


POSTINGS_FROM = 64  # fewer series of a name: checking each is as quick as the postings


def _narrowed(index: SeriesIndex, name: str, matchers: Sequence[Matcher]) -> list[SeriesInfo] | None:
    """The candidates a label matcher allows, from the postings of its label:
    each distinct value is matched once instead of each series. Only a
    matcher that refuses the empty value can use them (a series without the
    label has the empty value); the one allowing the fewest series wins.
    None when no matcher can."""
    best: list[int] | None = None
    for m in matchers:
        if m.name == "__name__" or m.matches(""):
            continue
        by_value = index.postings(name, m.name)
        if m.op is MatchOp.EQ:
            allowed = list(by_value.get(m.value, ()))
        else:
            allowed = [i for value, ids in by_value.items() if m.matches(value) for i in ids]
        if best is None or len(allowed) < len(best):
            best = allowed
    return None if best is None else index.infos(sorted(best))


def match_series(index: SeriesIndex, matchers: Sequence[Matcher]) -> list[SeriesInfo]:
    name_eq = next((m.value for m in matchers if m.name == "__name__" and m.op is MatchOp.EQ), None)
    narrowed = (
        _narrowed(index, name_eq, matchers) if name_eq is not None and index.count(name_eq) > POSTINGS_FROM else None
    )
    if narrowed is not None:
        candidates = narrowed
    else:
        candidates = index.by_name(name_eq) if name_eq is not None else index.all()
    out = []
    for info in candidates:
        labels = info.labels
        ok = True
        for m in matchers:
            if m.name == "__name__":
                v = info.name
            else:
                v = next((val for k, val in labels if k == m.name), "")
            if not m.matches(v):
                ok = False
                break
        if ok:
            out.append(info)
    return out
