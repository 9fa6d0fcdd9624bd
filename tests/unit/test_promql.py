from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from switchman.controller.promql import PromQLError, ast, parse
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.values import Sample, Scalar, Series
from switchman.controller.store import Database, Writer
from switchman.controller.store.series import SeriesIndex
from switchman.controller.store.sqlite.samples import StoreSource


def test_parses_selector_with_all_four_matchers_range_and_offset() -> None:
    node = parse('http_requests_total{job="api", code!="500", path=~"/v1/.*", method!~"GET|HEAD"}[5m] offset 1h')
    assert isinstance(node, ast.MatrixSelector)
    assert node.range_ms == 300_000 and node.vector.offset_ms == 3_600_000
    ops = [(m.name, m.op.value) for m in node.vector.matchers]
    assert ops == [("__name__", "="), ("job", "="), ("code", "!="), ("path", "=~"), ("method", "!~")]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("up{job=}", "1:8: expected a quoted label value"),
        ('up{job="a"', "1:11: expected ',' or '}'"),
        ("up[5x]", "1:4: expected a duration"),
        ('{job=~".*"}', "1:1: vector selector must contain at least one non-empty matcher"),
        ('up{job=~"("}', "invalid regular expression"),
        ('"abc', "1:1: unterminated string"),
        ("up offset", "1:10: expected a duration"),
        ("", "empty expression"),
    ],
)
def test_parse_errors_name_position_and_what_was_expected(expr: str, message: str) -> None:
    with pytest.raises(PromQLError) as e:
        parse(expr)
    assert message in str(e.value)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Evaluator, Writer, SeriesIndex]]:
    db = Database(tmp_path / "c.db")
    writer = Writer(db.open_writer())
    index = SeriesIndex()
    ev = Evaluator(StoreSource(index, db.reader, raw_retention_ms=10**12))
    yield ev, writer, index
    writer.close()
    db.close()


def put(writer: Writer, index: SeriesIndex, name: str, labels: dict[str, str], points: list[tuple[int, float]]) -> None:
    def job(conn: sqlite3.Connection) -> None:
        sid = index.intern(conn, writer, name, tuple(sorted(labels.items())), labels.get("host", ""), 0)
        conn.executemany("INSERT INTO samples VALUES (?,?,?)", [(sid, t, v) for t, v in points])

    writer.submit(job).result()


def test_instant_selector_takes_newest_sample_within_five_minutes(store: tuple[Evaluator, Writer, SeriesIndex]) -> None:
    ev, writer, index = store
    put(writer, index, "up", {"host": "a"}, [(0, 1.0), (60_000, 0.0)])
    put(writer, index, "up", {"host": "b"}, [(0, 1.0)])
    at = 330_000  # a's last sample is 270s old (inside), b's is 330s old (outside lookback)
    result = ev.instant(parse("up"), at)
    assert isinstance(result, list)
    assert [(s.labels["host"], s.v) for s in result if isinstance(s, Sample)] == [("a", 0.0)]
    assert ev.instant(parse('up{host!="a"}'), 299_999) != []
    assert ev.instant(parse('up{host=~"b|c"}'), 300_000) != []  # lookback is closed: [t-5m, t]
    assert ev.instant(parse('up{host=~"b|c"}'), 300_001) == []


def test_offset_and_range_selector(store: tuple[Evaluator, Writer, SeriesIndex]) -> None:
    ev, writer, index = store
    put(writer, index, "m", {"host": "a"}, [(t * 10_000, float(t)) for t in range(100)])
    [s] = ev.instant(parse("m offset 100s"), 500_000)
    assert isinstance(s, Sample) and s.v == 40.0
    [r] = ev.instant(parse("m[30s]"), 500_000)
    assert isinstance(r, Series) and r.vs == [47.0, 48.0, 49.0, 50.0]


def test_range_query_steps_and_gaps(store: tuple[Evaluator, Writer, SeriesIndex]) -> None:
    ev, writer, index = store
    put(writer, index, "m", {"host": "a"}, [(0, 1.0), (600_000, 2.0)])
    [s] = ev.range(parse("m"), 0, 900_000, 150_000)
    assert s.ts == [0, 150_000, 300_000, 600_000, 750_000, 900_000]  # 450s: nothing within 5m
    assert s.vs == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert isinstance(ev.instant(parse("42"), 5), Scalar)
    with pytest.raises(PromQLError, match="range vector"):
        ev.range(parse("m[1m]"), 0, 10, 1)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('up{job=~"a(?=b)"}', "1:9: invalid regular expression"),  # RE2 has no lookahead
        ('up{job="x", path=~"(a"}', "1:19: invalid regular expression"),
        ("up @ start", "1:11: expected '(' after start"),
        ("up @ 1 @ 2", "1:8: @ <timestamp> may not be set multiple times"),
        ("up offset 1m offset 2m", "1:14: offset may not be set multiple times"),
        ("up offset 1m [5m]", "1:14: no offset modifiers allowed before range"),
        ("sum(up) offset 1m", "1:9: offset modifier must be preceded by"),
        ("up[5m][10m:1m]", "1:7: subquery is only allowed on instant vector"),
        ("up @ Inf", "1:6: timestamp out of bounds for @ modifier"),
        ('label_join(up, "a")', "expected 4 argument(s)"),
    ],
)
def test_language_errors_name_their_position(expr: str, message: str) -> None:
    with pytest.raises(PromQLError) as e:
        parse(expr)
    assert message in str(e.value)


def test_keywords_parse_in_any_case() -> None:
    node = parse("SUM BY (job) (rate(x[5m] OFFSET 1m)) > BOOL ON(job) Group_Left(a) y")
    assert isinstance(node, ast.Binary) and node.return_bool and node.matching is not None
    assert node.matching.on and node.matching.card == "many-to-one" and node.matching.include == ("a",)
    assert isinstance(node.lhs, ast.Aggregate) and node.lhs.op == "sum" and node.lhs.grouping == ("job",)


def test_subquery_and_at_modifiers_parse() -> None:
    node = parse("max_over_time(rate(x[1m])[10m:30s] offset -5m @ end())")
    assert isinstance(node, ast.Call)
    [sub] = node.args
    assert isinstance(sub, ast.Subquery)
    assert (sub.range_ms, sub.step_ms, sub.offset_ms, sub.at) == (600_000, 30_000, -300_000, ast.At(anchor="end"))
    sel = parse("x @ 1.5")
    assert isinstance(sel, ast.VectorSelector) and sel.at == ast.At(ms=1500)


def test_regex_matchers_are_re2_and_fully_anchored() -> None:
    m = ast.Matcher.make("path", ast.MatchOp.RE, "(?i).*tail.*")
    assert m.matches("/TAIL/x") and not m.matches("/head")
    partial = ast.Matcher.make("path", ast.MatchOp.RE, "/v1")
    assert partial.matches("/v1") and not partial.matches("/v1/users")
    assert not ast.Matcher.make("x", ast.MatchOp.RE, "a.b").matches("a\nb")  # . is not newline, as in Go


@pytest.mark.parametrize(
    "expr",
    [
        "-{__name__=~'m1|m2'}",  # the unary minus drops the names: two series with the same labels
        'histogram_quantile(0.9, {__name__=~"h1_bucket|h2_bucket"})',  # grouped by name, then the name is dropped
    ],
)
def test_results_that_lose_the_name_must_stay_distinct(expr: str) -> None:
    """As Prometheus' test data expects (operators.test, histograms.test): an error, not two identical series."""
    from switchman.controller.promql.testfile import load_input

    src = load_input(
        [
            {"series": 'm1{job="a"}', "values": "1"},
            {"series": 'm2{job="a"}', "values": "2"},
            {"series": 'h1_bucket{job="a", le="1"}', "values": "1"},
            {"series": 'h1_bucket{job="a", le="+Inf"}', "values": "2"},
            {"series": 'h2_bucket{job="a", le="1"}', "values": "1"},
            {"series": 'h2_bucket{job="a", le="+Inf"}', "values": "2"},
        ],
        60_000,
    )
    with pytest.raises(PromQLError, match="same labelset"):
        Evaluator(src).instant(parse(expr), 0)
    one = Evaluator(src).instant(parse("-m1"), 0)
    assert isinstance(one, list) and [s.v for s in one if isinstance(s, Sample)] == [-1.0]
