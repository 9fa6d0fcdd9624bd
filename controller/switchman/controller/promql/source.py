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


def match_series(index: SeriesIndex, matchers: Sequence[Matcher]) -> list[SeriesInfo]:
    name_eq = next((m.value for m in matchers if m.name == "__name__" and m.op is MatchOp.EQ), None)
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
