"""Remote-write's pure parts: the body decodes with the generated protobuf
and cramjam into what was encoded, write_relabel keeps and drops as
Prometheus does, chunks are split deterministically, and bad
``[[remote_write]]`` tables are refused naming the key."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
from pathlib import Path

import cramjam
import pytest
from switchman.controller import config as controller_config
from switchman.controller.promql.values import STALE_NAN
from switchman.controller.remote_write import remote_pb2
from switchman.controller.remote_write.chunk import make_chunk
from switchman.controller.remote_write.client import Outcome, classify
from switchman.controller.remote_write.config import Action, default_name, parse_endpoints
from switchman.controller.remote_write.encode import SeriesBatch, decode, encode
from switchman.controller.remote_write.relabel import keeps
from switchman.proto.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def bits(v: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", v))[0])


def test_body_is_block_snappy_protobuf_that_decodes_to_the_series_sent() -> None:
    batches = [
        SeriesBatch((("__name__", "up"), ("instance", "a"), ("job", "node")), [(1000, 1.0), (2000, 0.0)]),
        SeriesBatch((("__name__", "x"),), [(3000, STALE_NAN), (4000, math.nan), (5000, -math.inf)]),
    ]
    body = encode(batches)
    raw = bytes(cramjam.snappy.decompress_raw(body))  # the block format, not the framed one
    req = remote_pb2.WriteRequest()
    req.ParseFromString(raw)
    assert [[(lb.name, lb.value) for lb in ts.labels] for ts in req.timeseries] == [list(b.labels) for b in batches]
    first, second = req.timeseries
    assert [(s.timestamp, s.value) for s in first.samples] == [(1000, 1.0), (2000, 0.0)]
    # the staleness marker keeps its exact bit pattern; a plain NaN stays a different NaN
    assert [bits(s.value) for s in second.samples[:2]] == [bits(STALE_NAN), bits(math.nan)]
    assert second.samples[2].value == -math.inf
    assert decode(body) == req
    with pytest.raises(cramjam.DecompressionError):
        cramjam.snappy.decompress(body)  # not the framed format


def test_wire_field_numbers_are_prometheus_prompb_ones() -> None:
    # prompb: WriteRequest{timeseries=1, metadata=3}, TimeSeries{labels=1, samples=2}, Sample{value=1, timestamp=2}
    fields = {
        m.full_name: {f.name: f.number for f in m.fields}
        for m in (
            remote_pb2.WriteRequest.DESCRIPTOR,
            remote_pb2.TimeSeries.DESCRIPTOR,
            remote_pb2.Label.DESCRIPTOR,
            remote_pb2.Sample.DESCRIPTOR,
        )
    }
    assert fields == {
        "prometheus.WriteRequest": {"timeseries": 1, "metadata": 3},
        "prometheus.TimeSeries": {"labels": 1, "samples": 2},
        "prometheus.Label": {"name": 1, "value": 2},
        "prometheus.Sample": {"value": 1, "timestamp": 2},
    }


def test_generated_code_matches_the_proto() -> None:
    script = ROOT / "controller/switchman/controller/remote_write/generate.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def relabel(*rules: dict[str, object]) -> list:
    [e] = parse_endpoints([{"url": "http://r/api/v1/write", "write_relabel": list(rules)}], "c.toml")
    return list(e.relabel)


def test_write_relabel_keeps_and_drops_by_fully_anchored_regex_over_joined_labels() -> None:
    up = {"__name__": "up", "job": "node", "instance": "web-1"}
    load = {"__name__": "node_load1", "job": "node", "instance": "web-2"}
    own = {"__name__": "switchman_series", "job": "switchman-controller"}
    keep_node = relabel({"source_labels": ["job"], "regex": "node", "action": "keep"})
    assert [keeps(keep_node, s) for s in (up, load, own)] == [True, True, False]
    # anchored: "nod" does not match "node"
    assert not keeps(relabel({"source_labels": ["job"], "regex": "nod", "action": "keep"}), up)
    drop_pair = relabel({"source_labels": ["__name__", "instance"], "regex": "up;web-.*", "action": "drop"})
    assert [keeps(drop_pair, s) for s in (up, load, own)] == [False, True, True]
    # a missing label is the empty string; rules apply in order
    both = relabel(
        {"source_labels": ["instance"], "regex": ".+", "action": "keep"},
        {"source_labels": ["__name__"], "regex": "node_.*", "action": "drop"},
    )
    assert [keeps(both, s) for s in (up, load, own)] == [True, False, False]
    [rule] = relabel({"source_labels": ["a", "b"], "separator": "/"})
    assert rule.action is Action.KEEP and rule.regex.pattern == "(.*)"
    assert keeps([rule], {"a": "x"})


def test_chunk_splits_by_series_into_bounded_requests_the_same_way_every_time() -> None:
    labels = {sid: (("__name__", f"m{sid}"),) for sid in range(1, 6)}
    # (seq, series, ts, value, stale): series 1 arrives out of timestamp order; a row whose sample is gone
    rows = [
        (10, 1, 3000, 3.0, None),
        (11, 2, 1000, 1.0, None),
        (12, 1, 1000, 1.0, None),
        (13, 3, 1000, None, None),
        (14, 4, 1000, None, 1),
        (15, 1, 2000, 2.0, None),
        (16, 5, 1000, 5.0, None),
        (17, 3, 3000, None, None),  # gone, but newer than retention: a cleared staleness marker, not a loss
    ]

    def labeller(sid: int) -> tuple[tuple[str, str], ...] | None:
        return None if sid == 5 else labels[sid]  # write_relabel drops m5

    chunk = make_chunk(rows, labeller, shards=2, max_per_send=2, expired_before_ms=2000)
    again = make_chunk(rows, labeller, shards=2, max_per_send=2, expired_before_ms=2000)
    assert [[r.body() for r in s.requests] for s in chunk.shards] == [
        [r.body() for r in s.requests] for s in again.shards
    ]
    assert chunk.end == 17 and chunk.expired == 1 and chunk.dropped_by_relabel == 1
    sent: dict[str, list[tuple[int, float]]] = {}
    for shard in chunk.shards:
        for req in shard.requests:
            assert req.samples <= 2
            for ts in decode(req.body()).timeseries:
                name = ts.labels[0].value
                sent.setdefault(name, []).extend((s.timestamp, s.value) for s in ts.samples)
    assert sent["m1"] == [(1000, 1.0), (2000, 2.0), (3000, 3.0)]  # in timestamp order, across two requests
    assert sent["m2"] == [(1000, 1.0)]
    assert bits(sent["m4"][0][1]) == bits(STALE_NAN)
    assert "m3" not in sent and "m5" not in sent


def test_answers_retry_on_5xx_and_429_and_drop_other_4xx() -> None:
    assert classify(204, "").outcome is Outcome.SENT
    assert classify(503, "down").outcome is Outcome.RETRY
    assert classify(429, "").outcome is Outcome.RETRY
    refused = classify(400, "out of order sample\n")
    assert refused.outcome is Outcome.REFUSED and refused.detail == "HTTP 400: out of order sample"


def test_defaults_and_the_name_from_the_url() -> None:
    [e] = parse_endpoints([{"url": "https://metrics.example:9090/api/v1/write"}], "c.toml")
    assert e.name == default_name(e.url) == "metrics.example:9090/api/v1/write"
    q = e.queue
    assert (q.max_samples_per_send, q.batch_send_deadline_ms, q.min_backoff_ms, q.max_backoff_ms) == (
        2000,
        5000,
        30,
        5000,
    )
    assert q.max_shards == 4 and e.timeout_ms == 30_000 and e.relabel == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "remote_write[0]: key 'url': expected an http:// or https:// URL"),
        ({"url": "ftp://x"}, "key 'url': expected an http:// or https:// URL, got 'ftp://x'"),
        ({"url": "http://x", "urls": []}, "remote_write[0]: unknown key 'urls'"),
        (
            {"url": "http://x", "queue": {"max_shards": 0}},
            "remote_write[0]: queue: key 'max_shards': expected a whole number",
        ),
        ({"url": "http://x", "queue": {"batch_send_deadline": "soon"}}, "queue: key 'batch_send_deadline':"),
        (
            {"url": "http://x", "queue": {"min_backoff": "2s", "max_backoff": "1s"}},
            "key 'max_backoff': must be at least",
        ),
        ({"url": "http://x", "queue": {"max_samples": 5}}, "queue: unknown key 'max_samples'"),
        (
            {"url": "http://x", "headers": {"Content-Type": "text/plain"}},
            "key 'headers': header 'Content-Type' is set by",
        ),
        ({"url": "http://x", "headers": {"X-A": 1}}, "key 'headers': header 'X-A': expected a string"),
        ({"url": "http://x", "basic_auth": {"username": "u"}}, "basic_auth: key 'password_file':"),
        (
            {"url": "http://x", "bearer_token_file": "t", "basic_auth": {"username": "u", "password_file": "p"}},
            "key 'bearer_token_file': use bearer_token_file or basic_auth, not both",
        ),
        ({"url": "http://x", "cert_file": "c.pem"}, "key 'key_file': cert_file and key_file go together"),
        ({"url": "http://x", "insecure_skip_verify": "yes"}, "key 'insecure_skip_verify': expected true or false"),
        (
            {"url": "http://x", "write_relabel": [{"source_labels": ["job"], "regex": "(", "action": "keep"}]},
            "write_relabel[0]: key 'regex': error parsing regexp",
        ),
        (
            {"url": "http://x", "write_relabel": [{"source_labels": ["job"], "action": "replace"}]},
            "write_relabel[0]: key 'action': expected keep or drop, got 'replace'",
        ),
        ({"url": "http://x", "write_relabel": [{"regex": "x"}]}, "write_relabel[0]: key 'source_labels':"),
    ],
)
def test_bad_tables_are_refused_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_endpoints([table], "c.toml")
    assert str(err.value).startswith("c.toml: remote_write[0]")
    assert message in str(err.value)


def test_the_controller_config_refuses_a_bad_remote_write_and_a_name_used_twice(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[remote_write]]\nurl = "http://a/w"\n[[remote_write]]\nurl = "http://b/w"\nname = "a/w"\n')
    with pytest.raises(ConfigError, match=r"remote_write\[1\]: key 'name': 'a/w' is used twice"):
        controller_config.load(str(cfg), {"data_dir": str(tmp_path), "insecure": True}, check_dir=False)
    cfg.write_text('[[remote_write]]\nurl = "http://a/w"\nqueue = { max_samples_per_send = "many" }\n')
    with pytest.raises(ConfigError, match=r"queue: key 'max_samples_per_send'"):
        controller_config.load(str(cfg), {"data_dir": str(tmp_path), "insecure": True}, check_dir=False)
    cfg.write_text('[[remote_write]]\nurl = "http://a/w"\nheaders = { X-Scope-OrgID = "t1" }\n')
    loaded = controller_config.load(str(cfg), {"data_dir": str(tmp_path), "insecure": True}, check_dir=False)
    [e] = parse_endpoints(loaded.remote_write, loaded.source)
    assert e.headers == {"X-Scope-OrgID": "t1"} and e.name == "a/w"
