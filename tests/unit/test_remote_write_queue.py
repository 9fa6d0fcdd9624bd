"""The remote-write queue over a real store: what is stored after the
endpoint starts is sent once, in timestamp order per series, and the
persisted cursor moves only after a 2xx; retries keep everything, a refusal
drops only its request, and after a crash the chunk in flight is re-sent as
the very same requests. The receiver here is a plain function (the HTTP
client is tested end to end against Prometheus in tests/e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from switchman.controller.promql.values import Sample
from switchman.controller.remote_write.client import Answer, Outcome
from switchman.controller.remote_write.config import parse_endpoints
from switchman.controller.remote_write.encode import decode
from switchman.controller.remote_write.manager import RemoteWrite
from switchman.controller.remote_write.queue import EndpointQueue
from switchman.controller.store.sqlite import remote_write as sql
from switchman.controller.store.storage import Storage

from tests.helpers import in_own_loop

NOW = 1_700_000_000_000


def clock() -> int:
    return NOW + 60_000


class Monotonic:
    """A clock for batch_send_deadline that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Receiver:
    """Records each body; answers from ``script`` (then 2xx)."""

    def __init__(self, *script: Outcome) -> None:
        self.script = list(script)
        self.bodies: list[bytes] = []

    async def post(self, body: bytes) -> Answer:
        self.bodies.append(body)
        outcome = self.script.pop(0) if self.script else Outcome.SENT
        return Answer(outcome, "" if outcome is Outcome.SENT else f"scripted {outcome}")

    def samples(self, bodies: list[bytes] | None = None) -> dict[str, list[tuple[int, float]]]:
        out: dict[str, list[tuple[int, float]]] = {}
        for body in self.bodies if bodies is None else bodies:
            for ts in decode(body).timeseries:
                labels = [(lb.name, lb.value) for lb in ts.labels]
                assert labels == sorted(labels) and labels[0][0] == "__name__"
                key = ",".join(f"{k}={v}" for k, v in labels)
                out.setdefault(key, []).extend((s.timestamp, s.value) for s in ts.samples)
        return out


def endpoint(**queue: object) -> list:
    return parse_endpoints(
        [
            {
                "url": "http://receiver/api/v1/write",
                "queue": {"max_samples_per_send": 2, "max_shards": 2, "min_backoff": "1ms", **queue},
                "write_relabel": [{"source_labels": ["job"], "regex": "skip", "action": "drop"}],
            }
        ],
        "c.toml",
    )


async def store(storage: Storage, name: str, points: list[tuple[int, float]], **labels: str) -> None:
    for ts, v in points:
        sample = Sample({"__name__": name, "job": "node", **labels}, ts, v)
        await storage.write(lambda tx, s=sample, t=ts: storage.samples.add(tx, [s], t))


async def drain(q: EndpointQueue, post: Callable[[bytes], Awaitable[Answer]], steps: int = 100) -> None:
    """Step until nothing is pending (at most ``steps`` times)."""
    q.post = post
    for _ in range(steps):
        await q.step()
        if q.stats.pending == 0 and q._chunk is None:
            return
    raise AssertionError(f"still pending after {steps} steps: {q.stats}")


@in_own_loop(30)
async def test_samples_stored_after_start_are_sent_once_and_a_restart_resends_nothing(tmp_path: Path) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    await store(storage, "before", [(NOW, 1.0)])  # before any endpoint: not logged
    mono = Monotonic()
    rw = await RemoteWrite.open(endpoint(), storage, clock, 3_600_000, mono)
    [q] = rw.queues
    await store(storage, "up", [(NOW + 1000, 1.0), (NOW + 2000, 0.0), (NOW + 3000, 1.0)], instance="a")
    await store(storage, "up", [(NOW + 1000, 1.0)], instance="b")
    await store(storage, "dropped", [(NOW + 1000, 1.0)], job="skip")
    # committed later, with an older timestamp than what was stored before it: still sent
    await store(storage, "late", [(NOW - 30_000, 7.0)])
    rx = Receiver()
    q.post = rx.post
    for _ in range(2):  # full requests go at once: 6 rows, chunks of 2 shards x 2 samples
        assert await q.step() == 0.0
    assert q.stats.pending == 0
    await store(storage, "tail", [(NOW + 9000, 9.0)])
    assert await q.step() == 0.5  # less than a request: it waits for more, up to batch_send_deadline
    assert q.stats.pending == 1
    mono.now += 5.0
    await drain(q, rx.post)
    assert rx.samples() == {
        "__name__=up,instance=a,job=node": [(NOW + 1000, 1.0), (NOW + 2000, 0.0), (NOW + 3000, 1.0)],
        "__name__=up,instance=b,job=node": [(NOW + 1000, 1.0)],
        "__name__=late,job=node": [(NOW - 30_000, 7.0)],
        "__name__=tail,job=node": [(NOW + 9000, 9.0)],
    }
    assert all(sum(len(t.samples) for t in decode(b).timeseries) <= 2 for b in rx.bodies)
    assert (q.stats.samples, q.stats.failed, q.stats.pending, q.stats.lag_s) == (6, 0, 0, 0.0)
    cursor = sql.load_cursors(storage.reader())[q.endpoint.name]
    assert cursor.sent_seq == cursor.inflight_seq == sql.head(storage.reader())
    head = sql.head(storage.reader())
    await rw.prune(clock())
    # all sent: pruned but for the last row, so the next number follows it (no number is used twice)
    assert storage.reader().execute("SELECT seq FROM remote_write_log").fetchall() == [(head,)]

    again = await RemoteWrite.open(endpoint(), storage, clock, 3_600_000, mono)
    rx2 = Receiver()
    await store(storage, "up", [(NOW + 4000, 1.0)], instance="a")
    assert sql.head(storage.reader()) == head + 1
    await again.queues[0].step()
    mono.now += 5.0
    await drain(again.queues[0], rx2.post)
    assert rx2.samples() == {"__name__=up,instance=a,job=node": [(NOW + 4000, 1.0)]}
    await asyncio.to_thread(storage.close)


@in_own_loop(30)
async def test_retries_keep_the_cursor_until_a_2xx_and_a_refusal_drops_only_its_request(tmp_path: Path) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    rw = await RemoteWrite.open(endpoint(max_shards=1), storage, clock, 3_600_000)
    [q] = rw.queues
    await store(storage, "m", [(NOW + i * 1000, float(i)) for i in range(4)])
    start = sql.load_cursors(storage.reader())[q.endpoint.name].sent_seq
    rx = Receiver(Outcome.RETRY, Outcome.RETRY)
    q.post = rx.post
    delays = [await q.step(), await q.step()]
    assert delays == [0.001, 0.002]  # exponential from min_backoff
    cursor = sql.load_cursors(storage.reader())[q.endpoint.name]
    assert cursor.sent_seq == start and cursor.inflight_seq > start  # in flight, not answered
    assert q.stats.pending == 4 and q.stats.retries == 2 and q.stats.lag_s > 0
    assert await q.step() == 0.0
    assert rx.bodies[0] == rx.bodies[1] == rx.bodies[2]  # the same request each time
    refusing = Receiver(Outcome.REFUSED)
    await drain(q, refusing.post)
    assert q.stats.samples == 2 and q.stats.failed == 2 and q.stats.pending == 0
    assert rx.samples()["__name__=m,job=node"] == [(NOW, 0.0), (NOW + 1000, 1.0)] * 3
    await asyncio.to_thread(storage.close)


@in_own_loop(30)
async def test_after_a_crash_the_chunk_in_flight_is_resent_alike_and_newer_samples_follow_apart(
    tmp_path: Path,
) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    rw = await RemoteWrite.open(endpoint(), storage, clock, 3_600_000)
    [q] = rw.queues
    for host in ("a", "b", "c"):
        await store(storage, "m", [(NOW + i * 1000, float(i)) for i in range(3)], instance=host)
    # the receiver takes the requests but the controller dies before it hears the answers
    lost = Receiver(Outcome.RETRY, Outcome.RETRY, Outcome.RETRY, Outcome.RETRY)
    q.post = lost.post
    await q.step()
    first = list(lost.bodies)
    assert first
    # more samples arrive; then a new process opens the same store
    await store(storage, "m", [(NOW + 5000, 5.0)], instance="a")
    restarted = await RemoteWrite.open(endpoint(), storage, clock, 3_600_000)
    rx = Receiver()
    rq = restarted.queues[0]
    rq.post = rx.post
    await rq.step()  # the chunk in flight, as the same requests, and nothing newer with them
    resent = list(rx.bodies)
    assert set(first) <= set(resent)
    assert (NOW + 5000, 5.0) not in rx.samples(resent).get("__name__=m,instance=a,job=node", [])
    rq._monotonic = lambda: 1e9  # the deadline has passed for the last, partial request
    await drain(rq, rx.post)
    assert (NOW + 5000, 5.0) in rx.samples(rx.bodies[len(resent) :])["__name__=m,instance=a,job=node"]
    everything = rx.samples()
    assert all(len(v) == len(set(v)) for v in everything.values())  # nothing sent twice after the resend
    assert {k: sorted(v) for k, v in everything.items()} == {
        f"__name__=m,instance={h},job=node": [(NOW + i * 1000, float(i)) for i in range(3)]
        + ([(NOW + 5000, 5.0)] if h == "a" else [])
        for h in ("a", "b", "c")
    }
    await asyncio.to_thread(storage.close)


@in_own_loop(30)
async def test_without_endpoints_nothing_is_logged_and_old_cursors_go(tmp_path: Path) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    await RemoteWrite.open(endpoint(), storage, clock, 3_600_000)
    await store(storage, "m", [(NOW, 1.0)])
    none = await RemoteWrite.open([], storage, clock, 3_600_000)
    await store(storage, "m", [(NOW + 1000, 1.0)])
    conn = storage.reader()
    assert conn.execute("SELECT count(*) FROM remote_write_log").fetchone()[0] == 0
    assert sql.load_cursors(conn) == {}
    assert none.stats() == []
    await asyncio.to_thread(storage.close)


@in_own_loop(30)
async def test_samples_retention_deleted_before_they_were_sent_count_as_failed_once(tmp_path: Path) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    rw = await RemoteWrite.open(endpoint(), storage, clock, 30_000)  # raw retention: 30 s before clock()
    [q] = rw.queues
    await store(storage, "old", [(NOW, 1.0), (NOW + 1000, 1.0)])  # older than retention
    await store(storage, "new", [(clock() - 1000, 2.0), (clock(), 3.0)])
    await rw.prune(clock())
    await rw.prune(clock())
    assert q.stats.failed == 2
    rx = Receiver()
    await drain(q, rx.post)
    assert rx.samples() == {"__name__=new,job=node": [(clock() - 1000, 2.0), (clock(), 3.0)]}
    assert (q.stats.samples, q.stats.failed) == (2, 2)
    await asyncio.to_thread(storage.close)


@in_own_loop(30)
async def test_a_request_refused_whole_is_resent_series_by_series_so_only_the_bad_one_is_lost(tmp_path: Path) -> None:
    storage = await asyncio.to_thread(Storage.open, tmp_path / "c.db")
    rw = await RemoteWrite.open(endpoint(max_shards=1, max_samples_per_send=3), storage, clock, 3_600_000)
    [q] = rw.queues
    await store(storage, "bad", [(NOW, 1.0)])
    await store(storage, "good", [(NOW, 2.0), (NOW + 1000, 3.0)])
    rx = Receiver(Outcome.REFUSED, Outcome.REFUSED)  # the pair, then "bad" alone
    await drain(q, rx.post)
    together, alone_bad, alone_good = (rx.samples([b]) for b in rx.bodies)
    assert set(together) == {"__name__=bad,job=node", "__name__=good,job=node"}
    assert set(alone_bad) == {"__name__=bad,job=node"} and set(alone_good) == {"__name__=good,job=node"}
    assert (q.stats.samples, q.stats.failed) == (2, 1)
    await asyncio.to_thread(storage.close)
