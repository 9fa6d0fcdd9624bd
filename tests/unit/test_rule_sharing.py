"""A group's shared reads and results (MemoSource) must not change any
answer: every rule's result equals a fresh evaluator's, including rules that
read what an earlier recording rule of the same group just wrote."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from switchman.controller.alerts.manager import RuleManager, rule_key
from switchman.controller.alerts.rules import Group
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.parser import parse
from switchman.controller.promql.values import Sample
from switchman.controller.store.storage import Storage
from switchman.controller.wiring import Retention, make_evaluator

NOW = 1_800_000_000_000

RULES = """groups:
  - name: g
    interval: 1m
    rules:
      - record: job:load:max
        expr: max by (role) (node_load1)
      - alert: RoleHot
        expr: job:load:max > 3
      - alert: Busy
        expr: rate(cpu_total[5m]) > 0.1
      - alert: BusyToo
        expr: rate(cpu_total[5m]) > 0.2
      - alert: BusyOffset
        expr: rate(cpu_total[3m] offset 1m) > 1
      - alert: LoadHigh
        expr: node_load1 > 4
      - alert: LoadAvgHigh
        expr: avg_over_time(node_load1[4m]) > 4
"""


def fill(storage: Storage) -> None:
    writer, index = storage.writer, storage.index

    def job(conn: sqlite3.Connection) -> None:
        rows = []
        for h in range(40):
            labels = (("host", f"h{h}"), ("role", f"r{h % 4}"))
            load = index.intern(conn, writer, "node_load1", labels, f"h{h}", NOW)
            cpu = index.intern(conn, writer, "cpu_total", labels, f"h{h}", NOW)
            for k in range(40):
                ts = NOW - 600_000 + k * 15_000
                rows.append((load, ts, float((h * 7 + k) % 9)))
                rows.append((cpu, ts, float(k * (h % 5))))
        conn.executemany("INSERT INTO samples VALUES (?,?,?)", rows)

    writer.submit(job).result()


def loaded(tmp_path: Path, rules: str) -> tuple[Storage, Evaluator, RuleManager, Group]:
    """A filled store and a manager with the one group of ``rules`` loaded."""
    storage = Storage.open(tmp_path / "controller.db")
    fill(storage)
    (tmp_path / "r.yml").write_text(rules)
    evaluator = make_evaluator(storage, Retention(), lambda: NOW)
    m = RuleManager(storage, evaluator, lambda: NOW, [str(tmp_path / "r.yml")])
    assert m.load() == []
    [group] = m.groups
    return storage, evaluator, m, group


def canonical(samples: list[Sample]) -> list[tuple[list[tuple[str, str]], float]]:
    return sorted((sorted(s.labels.items()), s.v) for s in samples)


def test_group_evaluation_answers_like_a_fresh_evaluator_per_rule(tmp_path: Path) -> None:
    storage, evaluator, m, group = loaded(tmp_path, RULES)
    outcomes, _ = m._evaluate_expressions(group, NOW)
    results = {r.name: outcome for r, _, outcome, _ in outcomes}
    fresh = Evaluator(evaluator.source)
    for r in group.rules:
        expected = fresh.instant(parse(r.expr_text), NOW)
        assert isinstance(expected, list)
        got = results[r.name]
        if r.kind == "alerting":  # the prepared alerts: the sample's labels and value, with the rule's labels
            assert isinstance(got, dict)
            dropped = {"__name__", "alertname", *r.labels}
            got = [Sample({k: v for k, v in a.labels.items() if k not in dropped}, NOW, a.value) for a in got.values()]
            expected = [Sample({k: v for k, v in s.labels.items() if k not in dropped}, s.t, s.v) for s in expected]
        assert isinstance(got, list)
        if r.kind == "recording":
            got = [Sample({k: v for k, v in s.labels.items() if k != "__name__"}, s.t, s.v) for s in got]
            expected = [Sample({k: v for k, v in s.labels.items() if k != "__name__"}, s.t, s.v) for s in expected]
        assert canonical(got) == canonical(expected), r.name
    assert results["RoleHot"], "the alert read what the recording rule wrote in the same evaluation"
    asyncio.run(m.evaluate_group(group))
    assert {a.labels["alertname"] for a in m.alerts()} >= {"RoleHot", "Busy", "LoadHigh"}
    storage.close()


def test_a_group_limit_fails_the_rule_that_exceeds_it_and_keeps_the_others(tmp_path: Path) -> None:
    limited = RULES.replace("    interval: 1m\n", "    interval: 1m\n    limit: 10\n")
    storage, _, m, group = loaded(tmp_path, limited)
    asyncio.run(m.evaluate_group(group))
    errors = {r.name: m.health[rule_key(group, r)].last_error for r in group.rules}
    by_name: dict[str, int] = {}
    for a in m.alerts():
        by_name.setdefault(a.labels["alertname"], 0)
        by_name[a.labels["alertname"]] += 1
    # 40 hosts: a rule with more than 10 alerts fails and keeps none; the others keep theirs
    over = {name for name, e in errors.items() if "exceeded limit of 10 with" in e and e.endswith("alerts")}
    assert over and over.isdisjoint(by_name), (errors, by_name)
    assert by_name and all(n <= 10 and not errors[name] for name, n in by_name.items()), (errors, by_name)
    storage.close()


DEFERRED = """groups:
  - name: g
    interval: 1m
    rules:
      - record: job:load:max
        expr: max by (role) (node_load1)
      - record: job:load:min
        expr: min by (role) (node_load1)
      - alert: RoleHot
        expr: job:load:max > 3
      - record: job:cpu:rate
        expr: sum by (role) (rate(cpu_total[5m]))
      - alert: Named
        expr: node_load1 > 7
        annotations:
          summary: '{{ with query "job:load:min" }}{{ . | first | value }}{{ end }}'
      - record: job:cpu:last
        expr: sum(cpu_total)
"""


def test_recorded_series_no_later_rule_reads_join_the_final_write(tmp_path: Path) -> None:
    storage, evaluator, m, group = loaded(tmp_path, DEFERRED)
    # read by a selector (max); a later template queries, which may read anything (min, cpu:rate);
    # nothing after reads the last
    assert m._read_later(group) == [True, True, False, True, False, False]
    outcomes, deferred = m._evaluate_expressions(group, NOW)
    assert {s.labels["__name__"] for s in deferred} == {"job:cpu:last"}
    named = next(o for r, _, o, _ in outcomes if r.name == "Named")
    assert isinstance(named, dict) and named, "some host's load is over 7"
    assert all(a.annotations["summary"] not in ("", "<no value>") for a in named.values())
    asyncio.run(m.evaluate_group(group))
    fresh = Evaluator(evaluator.source)
    for name in ("job:load:max", "job:load:min", "job:cpu:rate", "job:cpu:last"):
        got = fresh.instant(parse(name), NOW)
        assert isinstance(got, list) and got, f"{name} was written"
    storage.close()
