"""The vectorised range functions (promql/windows.py) answer bit for bit as
the scalar ones, for random series with counter resets, gaps, NaN, ±Inf and
staleness markers, and windows that hold no, one or many samples."""

from __future__ import annotations

import math
import sqlite3
import struct
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchman.controller.promql import functions as fn
from switchman.controller.promql.evaluator import _per_series
from switchman.controller.promql.parser import parse
from switchman.controller.promql.values import STALE_NAN, Series
from switchman.controller.promql.windows import VECTORISED, Block, latest, range_function
from switchman.controller.store.sqlite.rows import write_rows
from switchman.controller.store.sqlite.samples import StoreSource
from switchman.controller.store.storage import Storage
from switchman.controller.wiring import Retention, make_evaluator

VALUES = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, math.nan, math.inf, -math.inf, STALE_NAN, 1e300, -1e300]),
    st.integers(0, 50).map(float),
)


@st.composite
def series_lists(draw: st.DrawFn) -> list[Series]:
    out = []
    for i in range(draw(st.integers(0, 5))):
        gaps = draw(st.lists(st.integers(1, 40_000), max_size=25))
        ts = [int(x) for x in np.cumsum([draw(st.integers(0, 50_000)), *gaps])]
        counter = draw(st.booleans())
        vs: list[float] = []
        for _ in ts:
            if counter and draw(st.integers(0, 4)):
                vs.append((vs[-1] if vs and not math.isnan(vs[-1]) else 0.0) + draw(st.integers(0, 9)))
            else:
                vs.append(draw(VALUES))
        out.append(Series({"__name__": "m", "i": str(i)}, ts, vs, stale=any(fn_is_stale(v) for v in vs)))
    return out


def fn_is_stale(v: float) -> bool:
    return struct.pack("<d", v) == struct.pack("<d", STALE_NAN)


def same(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


FUNCTIONS = sorted(VECTORISED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=series_lists(),
    f=st.sampled_from(FUNCTIONS),
    ends=st.lists(st.integers(-10_000, 900_000), min_size=1, max_size=6),
    range_ms=st.integers(1, 400_000),
    q=st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0, -1.0, 2.0, math.nan]),
)
def test_range_functions_answer_as_the_scalar_code(
    series: list[Series], f: str, ends: list[int], range_ms: int, q: float
) -> None:
    params: tuple[float, ...] = ()
    if f == "quantile_over_time":
        params = (q,)
    elif f == "predict_linear":
        params = (300.0,)
    elif f == "holt_winters":
        params = (0.5, 0.3)
    block = Block.of(series)
    end = np.array(ends, dtype=np.int64)
    values, present = range_function(f, block, end - range_ms, end, range_ms, params, end)
    for j, e in enumerate(ends):
        compute = _per_series(f, e - range_ms, e, range_ms, params, e)
        for i, s in enumerate(series):
            ranged = s.without_stale()
            keep = [(t, v) for t, v in zip(ranged.ts, ranged.vs, strict=True) if e - range_ms <= t <= e]
            expected = compute([t for t, _ in keep], [v for _, v in keep]) if keep else None
            if expected is None:
                assert not present[j, i], (f, e, s)
            else:
                assert present[j, i], (f, e, s)
                assert same(float(values[j, i]), expected), (f, e, s, float(values[j, i]), expected)


@settings(max_examples=200, deadline=None)
@given(series=series_lists(), ats=st.lists(st.integers(-10_000, 900_000), min_size=1, max_size=6))
def test_latest_sample_is_the_bisected_one(series: list[Series], ats: list[int]) -> None:
    block = Block.of(series)
    values, present, _ = latest(block, np.array(ats, dtype=np.int64), 300_000)
    for j, at in enumerate(ats):
        for i, s in enumerate(series):
            before = [(t, v) for t, v in zip(s.ts, s.vs, strict=True) if t <= at]
            ok = bool(before) and before[-1][0] >= at - 300_000 and not fn_is_stale(before[-1][1])
            assert bool(present[j, i]) == ok
            if ok:
                assert same(float(values[j, i]), before[-1][1])


def test_a_counter_reset_adds_the_value_before_it() -> None:
    s = Series({"__name__": "c"}, [0, 10_000, 20_000, 30_000], [5.0, 10.0, 2.0, 4.0])
    end = np.array([30_000], dtype=np.int64)
    values, present = range_function("increase", Block.of([s]), end - 30_000, end, 30_000, (), end)
    expected = fn.extrapolated(s.ts, s.vs, 0, 30_000, 30_000, True, False)
    assert present[0, 0] and values[0, 0] == expected


def test_the_store_reads_a_block_as_its_series(tmp_path: Path) -> None:
    """StoreSource.select_block (straight into arrays) equals its select()
    made a block: same rows in the same order, NaN and staleness markers
    merged in time order, series without samples in the window left out."""
    storage = Storage.open(tmp_path / "controller.db")
    now = 1_800_000_000_000
    try:

        def job(conn: sqlite3.Connection) -> None:
            rows: list[tuple[int, int, float]] = []
            for h in (3, 1, 2, 0):  # interned out of label order
                sid = storage.index.intern(conn, storage.writer, "m", (("host", f"h{h}"),), f"h{h}", now)
                for k in range(20):
                    v = [float(k), math.nan, STALE_NAN, -0.0][(k * (h + 1)) % 4] if h else float(k)
                    rows.append((sid, now - 600_000 + k * 30_000 + h, v))
            write_rows(conn, rows)
            sid, ts, _ = next(r for r in reversed(rows) if math.isnan(r[2]))
            write_rows(conn, [(sid, ts, 7.0)])  # a value over a NaN: both tables hold the time

        storage.writer.submit(job).result()
        source = make_evaluator(storage, Retention(), lambda: now).source
        assert isinstance(source, StoreSource)
        matchers = parse("m").matchers  # type: ignore[attr-defined]
        for start, end in ((now - 600_000, now), (now - 100_000, now - 30_000), (now + 1, now + 9), (now - 10**9, now)):
            got, want = source.select_block(matchers, start, end), Block.of(source.select(matchers, start, end))
            assert got.labels == want.labels
            assert got.unnamed() == want.unnamed()
            assert got.ts.tolist() == want.ts.tolist()
            assert got.vs.view(np.uint64).tolist() == want.vs.view(np.uint64).tolist()
            assert (got.first.tolist(), got.end.tolist()) == (want.first.tolist(), want.end.tolist())
            assert got.stale_rows.tolist() == want.stale_rows.tolist()
            # an instant selector's read: only the newest samples, the same answer
            at = np.array([end], dtype=np.int64)
            fast, slow = (
                latest(source.select_latest(matchers, start, end), at, end - start),
                latest(want, at, end - start),
            )
            assert fast[1].tolist() == slow[1].tolist()
            assert fast[0][fast[1]].view(np.uint64).tolist() == slow[0][slow[1]].view(np.uint64).tolist()
    finally:
        storage.close()
