"""Scraping: the text-format parser against prometheus_client's, target
labels and honor_labels, metric_relabel keep/drop, config errors, and the
scrape loop against a real HTTP server (synthetic series, staleness)."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from switchman.agent.scrape.manager import ScrapeManager, TargetHealth, _Loop
from switchman.agent.scrape.targets import ScrapeTarget, parse_scrape, parse_scrapes
from switchman.agent.scrape.textparse import ParseError, parse_text
from switchman.proto.settings import ConfigError
from switchman.proto.staleness import is_stale

EXPOSITION = r"""# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# a comment
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
nan_gauge NaN
neg_inf{a = "b" , } -Inf
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
utf8_label{name="héllo wörld"} 1
"""


def reference(text: str) -> list[tuple[str, dict[str, str], float, int | None]]:
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            ts = None if s.timestamp is None else round(float(s.timestamp) * 1000)
            out.append((s.name, dict(s.labels), s.value, ts))
    return out


def ours(text: str) -> list[tuple[str, dict[str, str], float, int | None]]:
    samples, _ = parse_text(text)
    return [(s.name, dict(s.labels), s.value, s.timestamp_ms) for s in samples]


def same(a: list[Any], b: list[Any]) -> bool:
    key = lambda x: (x[0], sorted(x[1].items()))  # noqa: E731
    a, b = sorted(a, key=key), sorted(b, key=key)
    return len(a) == len(b) and all(
        x[:2] == y[:2] and x[3] == y[3] and (x[2] == y[2] or (math.isnan(x[2]) and math.isnan(y[2])))
        for x, y in zip(a, b, strict=True)
    )


def test_the_parser_reads_what_prometheus_client_reads() -> None:
    assert same(ours(EXPOSITION), reference(EXPOSITION))
    samples, types = parse_text(EXPOSITION)
    assert types["rpc_duration_seconds"] == "summary" and types["http_requests_total"] == "counter"
    weird = next(s for s in samples if s.name == "msdos_file_access_time_seconds")
    assert dict(weird.labels) == {"path": "C:\\DIR\\FILE.TXT", "error": 'Cannot find file:\n"FILE.TXT"'}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metric", "expected a value"),
        ('metric{a="b"} x', "is not a number"),
        ('metric{a="b} 1', "unterminated"),
        ("metric{a=b} 1", "expected a quoted value"),
        ("metric 1 2 3", "expected a value"),
    ],
)
def test_bad_lines_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=f"line 2: .*{message}"):
        parse_text(f"ok 1\n{text}\n")


def target(**kw: Any) -> ScrapeTarget:
    return parse_scrape({"job": "exp", "url": "http://127.0.0.1:9/metrics", **kw}, "agent.toml: scrape #1", 10.0)


def test_config_defaults_and_errors_name_the_table_and_key() -> None:
    t = target()
    assert (t.interval, t.timeout, t.instance) == (10.0, 10.0, "127.0.0.1:9")
    assert target(interval="1m").timeout == 10.0
    for bad, message in (
        ({"url": "ftp://x"}, "key 'url'"),
        ({"interval": "soon"}, "key 'interval'"),
        ({"interval": "5s", "timeout": "10s"}, "longer than the interval"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"metric_relabel": [{"action": "replace"}]}, "metric_relabel #1: key 'action'"),
        ({"metric_relabel": [{"regex": "("}]}, "does not compile"),
    ):
        with pytest.raises(ConfigError, match=message):
            target(**bad)
    with pytest.raises(ConfigError, match="already scrapes"):
        parse_scrapes([{"job": "a", "url": "http://h:1/"}, {"job": "a", "url": "http://h:1/x"}], "agent.toml", 10)


class Exporter:
    """A real HTTP endpoint whose body (and status) the test sets."""

    def __init__(self) -> None:
        self.body, self.status = "", 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = outer.body.encode()
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    e = Exporter()
    yield e
    e.server.shutdown()
    e.server.server_close()


def by_name(series: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in series:
        out.setdefault(s.name, []).append(s)
    return out


def test_scrapes_label_relabel_and_mark_what_goes_away(exporter: Exporter) -> None:
    t = parse_scrape(
        {
            "job": "exp",
            "url": exporter.url,
            "metric_relabel": [{"action": "drop", "source_labels": ["__name__"], "regex": "go_.*"}],
        },
        "agent.toml: scrape #1",
        10.0,
    )
    manager = ScrapeManager("test")
    entry = _Loop(t, TargetHealth(t))

    async def scrape() -> dict[str, list[Any]]:
        await manager.scrape_once(entry)
        return by_name(manager.drain())

    exporter.body = 'a{job="theirs",x="1"} 1\na{x="2"} 2\ngo_goroutines 7\nb 3\n'
    first = asyncio.run(scrape())
    assert "go_goroutines" not in first
    labels = sorted((dict(s.labels) for s in first["a"]), key=lambda d: d["x"])
    instance = t.instance
    assert labels[0] == {"exported_job": "theirs", "x": "1", "job": "exp", "instance": instance}
    assert labels[1] == {"x": "2", "job": "exp", "instance": instance}
    synthetic = {
        n: first[n][0].values[0]
        for n in ("up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added")
    }
    assert synthetic == {
        "up": 1.0,
        "scrape_samples_scraped": 4.0,
        "scrape_samples_post_metric_relabeling": 3.0,
        "scrape_series_added": 3.0,
    }
    assert first["scrape_duration_seconds"][0].values[0] > 0

    exporter.body = 'a{x="2"} 2\nb 4\n'  # a{x="1"} left the scrape
    second = asyncio.run(scrape())
    [marker] = [s for s in second["a"] if is_stale(s.values[0])]
    assert dict(marker.labels)["x"] == "1" and second["scrape_series_added"][0].values[0] == 0.0

    exporter.status = 500  # a failed scrape: up 0 and every series it had is stale
    third = asyncio.run(scrape())
    assert third["up"][0].values[0] == 0.0 and entry.health.last_error.startswith("server returned HTTP status 500")
    assert all(is_stale(s.values[0]) for n in ("a", "b") for s in third[n])


def test_honor_labels_keeps_the_scraped_ones(exporter: Exporter) -> None:
    t = parse_scrape({"job": "exp", "url": exporter.url, "honor_labels": True}, "agent.toml", 10.0)
    manager = ScrapeManager("test")
    exporter.body = 'a{job="theirs",instance="i"} 1\n'
    asyncio.run(manager.scrape_once(_Loop(t, TargetHealth(t))))
    [a] = [s for s in manager.drain() if s.name == "a"]
    assert dict(a.labels) == {"job": "theirs", "instance": "i"}


def test_an_unreachable_target_is_down_with_the_reason() -> None:
    t = parse_scrape({"job": "exp", "url": "http://127.0.0.1:1/metrics", "timeout": "1s"}, "agent.toml", 10.0)
    manager = ScrapeManager("test")
    entry = _Loop(t, TargetHealth(t))
    asyncio.run(manager.scrape_once(entry))
    [up] = [s for s in manager.drain() if s.name == "up"]
    assert up.values[0] == 0.0 and entry.health.last_error.endswith("connect: connection refused")
