"""The `switchman` CLI against a fake controller on loopback: a real gRPC Ops
server whose answers each test sets, so what is asserted is the command line
parsed, the request sent and what the operator reads."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from switchman.cli.main import main
from switchman.proto.v1 import common_pb2, ops_pb2, ops_pb2_grpc


@dataclass
class FakeOps(ops_pb2_grpc.OpsServicer):
    """Answers the Ops calls a test needs with canned replies; records every request."""

    replies: dict[str, Message] = field(default_factory=dict)
    requests: list[tuple[str, Message]] = field(default_factory=list)
    address: str = ""

    def _answer(self, method: str, request: Message, context: grpc.ServicerContext) -> Message:
        self.requests.append((method, request))
        if method not in self.replies:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the fake controller has no reply for {method}")
        return self.replies[method]

    def Query(self, request: Any, context: Any) -> Any:
        return self._answer("Query", request, context)

    def GetService(self, request: Any, context: Any) -> Any:
        return self._answer("GetService", request, context)

    def AddSilence(self, request: Any, context: Any) -> Any:
        return self._answer("AddSilence", request, context)

    def ListIncidents(self, request: Any, context: Any) -> Any:
        return self._answer("ListIncidents", request, context)

    def GetIncident(self, request: Any, context: Any) -> Any:
        return self._answer("GetIncident", request, context)

    def GetRollout(self, request: Any, context: Any) -> Any:
        return self._answer("GetRollout", request, context)

    def SLOReport(self, request: Any, context: Any) -> Any:
        return self._answer("SLOReport", request, context)


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[FakeOps]:
    for name in ("SWITCHMAN_CONTROLLER", "SWITCHMAN_TOKEN", "SWITCHMAN_TLS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWITCHMAN_CONFIG", str(tmp_path / "absent.toml"))
    fake = FakeOps()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    ops_pb2_grpc.add_OpsServicer_to_server(fake, server)
    fake.address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    yield fake
    server.stop(None)


def run(ops: FakeOps, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``switchman --controller FAKE --insecure ARGV...``: exit code, stdout, stderr."""
    code = main(["--controller", ops.address, "--insecure", *argv])
    out, err = capsys.readouterr()
    return code, out, err


VECTOR = ops_pb2.QueryResponse(
    result_type="vector",
    result=[
        ops_pb2.SeriesResult(metric={"__name__": "up", "host": "web-1"}, points=[{"timestamp_ms": 1000, "value": 1}])
    ],
)


def test_global_flags_after_the_command_are_accepted(ops: FakeOps, capsys: pytest.CaptureFixture[str]) -> None:
    ops.replies["Query"] = VECTOR
    code = main(
        ["query", "up", "-o", "json", "--controller", ops.address, "--insecure", "--timeout", "5", "--no-color"]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "resultType": "vector",
        "result": [{"metric": {"__name__": "up", "host": "web-1"}, "value": [1.0, "1"]}],
    }


def test_global_flags_before_the_command_still_work_and_the_later_one_wins(
    ops: FakeOps, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.replies["Query"] = VECTOR
    code, out, _ = run(ops, capsys, "-o", "json", "query", "up")
    assert code == 0 and json.loads(out)["resultType"] == "vector"
    code, out, _ = run(ops, capsys, "-o", "json", "query", "up", "-o", "yaml")
    assert code == 0 and out.startswith("resultType: vector\n")
    code, out, _ = run(ops, capsys, "-o", "yaml", "query", "-o", "table", "up", "--output", "json")
    assert code == 0 and json.loads(out)["resultType"] == "vector"


def test_global_flags_between_a_group_and_its_subcommand(ops: FakeOps, capsys: pytest.CaptureFixture[str]) -> None:
    ops.replies["ListIncidents"] = ops_pb2.ListIncidentsResponse()
    code, out, err = run(ops, capsys, "incidents", "-o", "json", "list")
    assert (code, json.loads(out), err) == (0, [], "")


SPEC_V1 = """name = "hello"
driver = "process"
command = ["/usr/bin/python3", "app.py", "--port", "{port}"]
front_port = 18080
back_ports = { blue = 18081, green = 18082 }
[env]
GREETING = "[bold]hi[/bold] :smile: \\\\[x]"
TABBED = "a\tb"
[probe]
kind = "http"
path = "/health"
"""
SPEC_V2 = SPEC_V1.replace("/health", "/ready") + "# " + "long comment " * 30 + '\n[selector]\nrole = "web"\n'


def test_service_show_history_prints_each_spec_so_it_parses_back(
    ops: FakeOps, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = common_pb2.ServiceSpec(name="hello", revision=2, driver="process", router="builtin", front_port=18080)
    ops.replies["GetService"] = ops_pb2.GetServiceResponse(
        spec=spec,
        history=[
            common_pb2.ServiceSpec(name="hello", revision=2, source_toml=SPEC_V2),
            common_pb2.ServiceSpec(name="hello", revision=1, source_toml=SPEC_V1),
        ],
    )
    code, out, err = run(ops, capsys, "service", "show", "hello", "--history")
    assert (code, err) == (0, "")
    _, v2, v1 = re.split(r"^revision (?:2|1)\n", out, flags=re.MULTILINE)
    assert tomllib.loads(v2) == tomllib.loads(SPEC_V2) and tomllib.loads(v1) == tomllib.loads(SPEC_V1)
    assert v1.strip("\n") == SPEC_V1.strip("\n")  # the text itself, tabs and comments included
    assert "[env]" in v2 and "[probe]" in v2 and "long comment " * 30 in v2


@pytest.mark.parametrize("typo", ["alertname==Foo", "alertname!==Foo", "host=~~web", "host = =web", "host=!web"])
def test_silence_add_refuses_a_doubled_operator_with_the_matcher_syntax(
    ops: FakeOps, capsys: pytest.CaptureFixture[str], typo: str
) -> None:
    ops.replies["AddSilence"] = ops_pb2.Silence(id="s1")
    code, out, err = run(ops, capsys, "silence", "add", "severity=page", typo, "-c", "maintenance")
    assert (code, out, ops.requests) == (2, "", [])
    first = err.splitlines()[0]
    assert first.startswith(f"switchman: matcher {typo!r}: ") and "is not an operator" in first
    assert "NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX" in first


def test_silence_add_takes_a_quoted_value_that_starts_with_an_operator_character(
    ops: FakeOps, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.replies["AddSilence"] = ops_pb2.Silence(id="s1")
    code, out, err = run(ops, capsys, "silence", "add", 'alertname="=Foo"', "host=~web-.*", "-c", "maintenance")
    assert (code, out, err) == (0, "s1\n", "")
    [(method, request)] = ops.requests
    assert method == "AddSilence" and isinstance(request, ops_pb2.AddSilenceRequest)
    assert [(m.name, m.op, m.value) for m in request.matchers] == [("alertname", "=", "=Foo"), ("host", "=~", "web-.*")]


INCIDENT = ops_pb2.Incident(
    id=7,
    priority="P2",
    state="acknowledged",
    title="hello is down",
    service="hello",
    opened_at_ms=1_700_000_000_000,
    acknowledged_at_ms=1_700_000_060_000,
    acknowledged_by="alice",
)


def test_incident_json_names_its_moments_with_at(ops: FakeOps, capsys: pytest.CaptureFixture[str]) -> None:
    ops.replies["ListIncidents"] = ops_pb2.ListIncidentsResponse(incidents=[INCIDENT])
    ops.replies["GetIncident"] = INCIDENT
    code, out, _ = run(ops, capsys, "-o", "json", "incidents", "list")
    [listed] = json.loads(out)
    code2, out2, _ = run(ops, capsys, "-o", "json", "incidents", "show", "7")
    assert (code, code2) == (0, 0) and json.loads(out2) == listed
    assert {k: listed[k] for k in ("id", "priority", "state", "title")} == {
        "id": 7,
        "priority": "P2",
        "state": "acknowledged",
        "title": "hello is down",
    }
    assert (listed["opened_at"], listed["acknowledged_at"]) == ("2023-11-14T22:13:20Z", "2023-11-14T22:14:20Z")
    assert listed["resolved_at"] is None and listed["closed_at"] is None
    assert not {"opened", "acknowledged", "resolved", "closed"} & listed.keys()


def test_rollout_status_json_counts_batches_from_one_as_the_table(
    ops: FakeOps, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.replies["GetRollout"] = ops_pb2.Rollout(
        id=3,
        service="hello",
        version="2",
        state="running",
        batches=2,
        current_batch=1,
        hosts=[
            ops_pb2.RolloutHost(host_id="web-1", state="healthy", batch=0),
            ops_pb2.RolloutHost(host_id="web-2", state="switching", batch=1),
            ops_pb2.RolloutHost(host_id="web-3", state="skipped", batch=0, message="down when the rollout started"),
        ],
    )
    code, out, _ = run(ops, capsys, "-o", "json", "rollout", "status", "3")
    doc = json.loads(out)
    assert code == 0 and (doc["batches"], doc["current_batch"]) == (2, 2)
    assert [(h["host"], h["batch"]) for h in doc["hosts"]] == [("web-1", 1), ("web-2", 2), ("web-3", None)]
    code, table, _ = run(ops, capsys, "rollout", "status", "3")
    assert code == 0 and "batch 2/2" in table and "batch 1: " in table and "batch 2: " in table


def test_incidents_alone_lists_the_open_incidents(ops: FakeOps, capsys: pytest.CaptureFixture[str]) -> None:
    ops.replies["ListIncidents"] = ops_pb2.ListIncidentsResponse(incidents=[INCIDENT])
    code, out, err = run(ops, capsys, "incidents")
    assert (code, err) == (0, "") and "hello is down" in out
    [(method, request)] = ops.requests
    assert method == "ListIncidents" and request == ops_pb2.ListIncidentsRequest(state="", all=False)
    code, out, _ = run(ops, capsys, "incidents", "-o", "json")
    assert code == 0 and [i["id"] for i in json.loads(out)] == [7]


def test_slo_report_without_slos_says_why(ops: FakeOps, capsys: pytest.CaptureFixture[str]) -> None:
    ops.replies["SLOReport"] = ops_pb2.SLOReportResponse()
    code, out, err = run(ops, capsys, "slo", "report")
    assert (code, err) == (0, "") and "no SLOs are loaded: add slo_files" in out
    code, out, _ = run(ops, capsys, "slo", "report", "--service", "hello")
    assert code == 0 and "no SLOs for service 'hello'" in out
    code, out, _ = run(ops, capsys, "-o", "json", "slo", "report")
    assert (code, json.loads(out)) == (0, [])


def test_json_documents_list_labels_by_name_on_every_run() -> None:
    from switchman.cli.commands.incidents import doc
    from switchman.cli.commands.query import api_doc

    names = [f"l{i:02d}" for i in range(30, 0, -1)]
    labels = {n: n.upper() for n in names}
    incident = ops_pb2.Incident(id=1, alerts=[ops_pb2.Alert(labels=labels)])
    point = common_pb2.Point(timestamp_ms=1000, value=1)
    vector = ops_pb2.QueryResponse(result_type="vector", result=[ops_pb2.SeriesResult(metric=labels, points=[point])])
    matrix = ops_pb2.QueryResponse(result_type="matrix", result=[ops_pb2.SeriesResult(metric=labels, points=[point])])
    assert list(doc(incident)["alerts"][0]) == sorted(names)
    assert [list(api_doc(r)["result"][0]["metric"]) for r in (vector, matrix)] == [sorted(names)] * 2


def test_brackets_in_data_print_as_they_are_in_tables_and_lines(
    ops: FakeOps, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rich markup is for the CLI's own colours: an incident titled `[critical] disk
    [bold]full[/bold]` or a rule's `rate(x[5m])` is printed, not swallowed."""
    title = "[critical] disk [bold]full[/bold] on rate(x[5m])"
    incident = ops_pb2.Incident(
        id=8, priority="P1", state="triggered", title=title[:60], service="db", opened_at_ms=1_700_000_000_000
    )
    ops.replies["ListIncidents"] = ops_pb2.ListIncidentsResponse(incidents=[incident])
    ops.replies["GetIncident"] = incident
    code, table, _ = run(ops, capsys, "--no-color", "incidents", "list")
    assert code == 0 and title[:60] in table and "triggered" in table and "[red]" not in table
    code, shown, _ = run(ops, capsys, "--no-color", "incidents", "show", "8")
    assert code == 0 and title in shown and "[bold]incident" not in shown
