from __future__ import annotations

from pathlib import Path

from switchman.agent.push import coalesce
from switchman.agent.spool import Spool
from switchman.proto.v1 import common_pb2, controller_pb2


def batch(n_series: int, ts: int, events: int = 0) -> controller_pb2.TelemetryBatch:
    b = controller_pb2.TelemetryBatch()
    for i in range(n_series):
        b.series.append(common_pb2.Series(name="m", labels={"i": str(i)}, timestamps_ms=[ts], values=[float(i)]))
    for _ in range(events):
        b.events.append(common_pb2.Event(timestamp_ms=ts, kind="probe.state", message="x"))
    return b


def test_sequences_increase_and_survive_reopen(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.db", 1 << 30)
    assert [s.append(batch(2, t), t) for t in (1, 2, 3)] == [1, 2, 3]
    epoch = s.epoch
    s.close()
    s = Spool(tmp_path / "spool.db", 1 << 30)
    assert s.epoch == epoch
    assert s.append(batch(1, 4), 4) == 4
    assert [e.seq for e in s.peek(1 << 20)] == [1, 2, 3, 4]


def test_ack_deletes_only_acknowledged_entries(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.db", 1 << 30)
    for t in range(5):
        s.append(batch(1, t), t)
    assert s.ack(3) == 3
    assert [e.seq for e in s.peek(1 << 20)] == [4, 5]


def test_bound_drops_oldest_samples_first_and_keeps_events(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.db", 256 * 1024)
    for t in range(200):
        s.append(batch(50, t, events=1), t)
    st = s.stats()
    assert st.bytes <= 256 * 1024
    assert st.dropped_samples > 0
    entries = s.peek(1 << 30, 10_000)
    assert len(entries) == 200  # every entry kept: their events survive
    first = controller_pb2.TelemetryBatch.FromString(entries[0].payload)
    last = controller_pb2.TelemetryBatch.FromString(entries[-1].payload)
    assert len(first.series) == 0 and len(first.events) == 1  # oldest samples went first
    assert len(last.series) == 50
    assert st.dropped_samples == sum(50 for e in entries if e.n_samples == 0)


def test_coalesce_joins_points_per_series_and_records_the_range(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.db", 1 << 30)
    for t in (10, 20, 30):
        s.append(batch(3, t, events=1), t)
    merged = coalesce(s.peek(1 << 20))
    assert (merged.first_sequence, merged.sequence) == (1, 3)
    assert len(merged.series) == 3
    assert list(merged.series[0].timestamps_ms) == [10, 20, 30]
    assert len(merged.events) == 3
