"""Every view of a drill says the same about a step whose condition had no
data: the report, `drill status`, both JSON documents and `drill list`."""

from __future__ import annotations

import argparse
import json
import math

import pytest
from switchman.cli.commands import drill as cli_drill
from switchman.cli.render import Output
from switchman.controller.chaos.journal import Journal, ProbeRecord, value_text
from switchman.controller.chaos.report import as_json, drill_message, markdown
from switchman.proto.v1 import ops_pb2

LONG = "deviated: the steady state did not hold again within the recovery timeout of 60s after the faults"


def journal() -> Journal:
    j = Journal(3, "latency", "", "title: latency\n", False, 1_800_000_000_000, state="deviated", reason=LONG)
    j.probes.append(ProbeRecord("front", "min(probe_success)", 1.0, math.nan, 1.0, True, False, True))
    return j


class FakeClient:
    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.ops = argparse.Namespace(GetDrill="GetDrill", ListDrills="ListDrills")

    def call(self, method: object, request: object) -> object:
        return self.answer


def test_no_data_reads_the_same_in_the_report_status_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    j = journal()
    assert value_text(math.nan) == "no data" and value_text(0.5) == "0.5"
    assert "| 1 (held) | no data (**broke**) | 1 (held) |" in markdown(j)
    assert json.loads(as_json(j))["probes"][0]["during"] is None
    message = drill_message(j)
    assert math.isnan(message.probes[0].during), "no data is not the value 0"

    cli_drill.status(argparse.Namespace(id=3), FakeClient(message), Output(color=False))
    shown = capsys.readouterr().out
    assert "front: before 1, during no data (broke), after 1" in shown and "during 0" not in shown
    cli_drill.status(argparse.Namespace(id=3), FakeClient(message), Output("json"))
    assert json.loads(capsys.readouterr().out)["steady_state"][0]["during"] is None


def test_drill_list_marks_a_reason_it_cuts(capsys: pytest.CaptureFixture[str]) -> None:
    answer = ops_pb2.ListDrillsResponse(drills=[drill_message(journal())])
    cli_drill.list_drills(argparse.Namespace(limit=20), FakeClient(answer), Output(color=False))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("3"))
    assert LONG[:60] in line and line.rstrip().endswith("…") and LONG not in line
