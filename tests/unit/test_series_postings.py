"""Selecting series through the postings of a label gives exactly what
checking every series of the name gives, whatever the matchers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from switchman.controller.promql.ast import Matcher, MatchOp
from switchman.controller.promql.source import POSTINGS_FROM, match_series
from switchman.controller.store.series import SeriesIndex, SeriesInfo

HOSTS = [f"web-{i}" for i in range(40)] + ["db.1", "db|2"]
MODES = ["idle", "user", "system"]


def index_of(n_series: int) -> SeriesIndex:
    index = SeriesIndex()
    for i in range(n_series):
        labels: list[tuple[str, str]] = [("host", HOSTS[i % len(HOSTS)])]
        if i % 7:  # some series have no mode at all
            labels.append(("mode", MODES[i % 3]))
        index._add(SeriesInfo(i + 1, "node_cpu_seconds_total", tuple(sorted(labels))))
    index._add(SeriesInfo(10_000, "up", (("host", "web-1"),)))
    return index


def brute(index: SeriesIndex, matchers: list[Matcher]) -> list[int]:
    name = next(m.value for m in matchers if m.name == "__name__")
    out = []
    for info in index.by_name(name):
        values = dict(info.labels)
        if all(m.matches(info.name if m.name == "__name__" else values.get(m.name, "")) for m in matchers):
            out.append(info.id)
    return sorted(out)


label_matcher = st.one_of(
    st.tuples(
        st.just("host"),
        st.sampled_from(list(MatchOp)),
        st.sampled_from([*HOSTS, "", "web-.*", "web-1|db\\|2", ".*", "nope"]),
    ),
    st.tuples(st.just("mode"), st.sampled_from(list(MatchOp)), st.sampled_from([*MODES, "", "i.*", ".+"])),
    st.tuples(st.just("absent"), st.sampled_from(list(MatchOp)), st.sampled_from(["", "x", ".*"])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(label_matcher, min_size=0, max_size=3))
def test_postings_select_what_checking_every_series_selects(raw: list[tuple[str, MatchOp, str]]) -> None:
    index = index_of(POSTINGS_FROM * 4)
    matchers = [Matcher.make("__name__", MatchOp.EQ, "node_cpu_seconds_total")] + [Matcher.make(*m) for m in raw]
    assert sorted(i.id for i in match_series(index, matchers)) == brute(index, matchers)


def test_a_new_series_of_the_name_is_found_after_the_postings_were_built() -> None:
    index = index_of(POSTINGS_FROM * 4)
    matchers = [
        Matcher.make("__name__", MatchOp.EQ, "node_cpu_seconds_total"),
        Matcher.make("host", MatchOp.EQ, "web-99"),
    ]
    assert match_series(index, matchers) == []
    index._add(SeriesInfo(20_000, "node_cpu_seconds_total", (("host", "web-99"),)))
    assert [i.id for i in match_series(index, matchers)] == [20_000]
    index._remove(SeriesInfo(20_000, "node_cpu_seconds_total", (("host", "web-99"),)))
    assert match_series(index, matchers) == []
