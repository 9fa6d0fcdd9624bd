"""Every config key, flag, CLI command and exported series is documented and
has help; the generated reference pages match the code that they describe."""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from switchman.agent import config as agent_config
from switchman.agent.collect import Family, HostCollector
from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.runner import record
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.cli.main import build_parser
from switchman.controller import config as controller_config
from switchman.controller.promql.ruletest import run_file
from switchman.proto.probes import parse_probe
from switchman.proto.settings import Key

from docs import gen_configuration, gen_metrics

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("keys", [agent_config.KEYS, controller_config.KEYS])
def test_every_config_key_is_documented(keys: tuple[Key, ...]) -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [k.name for k in keys if f"`{k.name}`" not in text or not k.help]
    assert not missing, f"undocumented keys: {missing}"


def test_every_cli_command_has_help_and_docs() -> None:
    text = (DOCS / "cli.md").read_text()
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    missing = [name for name in sub.choices if not helps.get(name) or f"## `{name}" not in text]
    assert not missing, f"commands without help or a section in docs/cli.md: {missing}"


def test_configuration_reference_is_what_the_key_tables_generate() -> None:
    assert (DOCS / "configuration.md").read_text() == gen_configuration.render(), (
        "docs/configuration.md is stale: run .venv/bin/python docs/gen_configuration.py"
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> gen_metrics.Reference:
    """The reference as the code produces it now (runs an agent in-process for a moment)."""
    return asyncio.run(asyncio.wait_for(gen_metrics.reference(tmp_path_factory.mktemp("metrics")), 60))


def test_metrics_reference_is_what_the_code_generates(reference: gen_metrics.Reference) -> None:
    assert (DOCS / "metrics.md").read_text() == gen_metrics.render(reference), (
        "docs/metrics.md is stale: run .venv/bin/python docs/gen_metrics.py"
    )


async def _one_http_probe_run() -> list[tuple[str, tuple[str, ...]]]:
    """A real http probe against a loopback server, recorded as the agent records it."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        spec = parse_probe({"kind": "http", "address": f"127.0.0.1:{port}", "path": "/health", "service": "hello"})
        outcome = await asyncio.wait_for(run_probe(spec), 10)
    finally:
        server.close()
        await server.wait_closed()
    assert outcome.success and outcome.http_status == 200, outcome
    buffer = TelemetryBuffer()
    record(buffer, spec, "green", outcome)
    series, _ = buffer.drain()
    return [(s.name, tuple(sorted(s.labels))) for s in series]


def _second_host_reading() -> list[Family]:
    """A host reading with every family sampled (CPU utilisation needs a previous reading)."""
    collector = HostCollector()
    collector.collect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        families = collector.collect()
        if all(f.samples for f in families if f.name == "switchman_node_cpu_utilisation_ratio"):
            return families
    raise AssertionError("the CPU utilisation never got a sample")


def test_every_series_a_real_agent_collection_exports_is_in_the_metrics_reference(
    reference: gen_metrics.Reference, tmp_path: Path
) -> None:
    page = (DOCS / "metrics.md").read_text()

    async def collect() -> list[tuple[str, tuple[str, ...]]]:
        config = await asyncio.to_thread(gen_metrics.agent_config_in, tmp_path)
        agent = await gen_metrics.agent_reading(config)
        seen = [(f.name, tuple(sorted(k for k, _ in lbl))) for f in agent for lbl, _ in f.samples]
        return seen + await _one_http_probe_run()

    seen = asyncio.run(asyncio.wait_for(collect(), 60))
    seen += [(f.name, tuple(sorted(k for k, _ in lbl))) for f in _second_host_reading() for lbl, _ in f.samples]
    assert {name for name, _ in seen} >= {"node_load1", "switchman_agent_spool_bytes", "probe_http_status_code"}
    wrong = []
    for name, labels in sorted(set(seen)):
        row = reference.find(name)
        if row is None or f"`{name}`" not in page:
            wrong.append(f"{name}: not in docs/metrics.md")
        elif set(labels) != set(row.labels):
            wrong.append(f"{name}: labels {list(labels)}, documented {list(row.labels)}")
    assert not wrong, "\n".join(wrong)


def test_metrics_reference_refuses_a_series_its_declarations_do_not_cover() -> None:
    errors: list[str] = []
    gen_metrics.declare(
        [
            gen_metrics.Seen("node_cpu_seconds_total", "counter", "Seconds.", labelsets={("cpu",)}),
            gen_metrics.Seen("switchman_new_thing", "gauge", "New.", labelsets=set()),
            gen_metrics.Seen("switchman_silent", "", "", labelsets={()}),
        ],
        errors,
        set(),
    )
    assert len(errors) == 3, errors
    assert "node_cpu_seconds_total: a sample has labels ['cpu']" in errors[0]
    assert "switchman_new_thing: no sample to read its labels from" in errors[1]
    assert "switchman_silent: the code gives no help or type" in errors[2]


# promtool's rule unit-test format: the example rules alert when and only when
# the page says they do (the probe of the idle slot fails throughout)
EXAMPLE_RULES_TEST = """
rule_files: [rules.yml]
evaluation_interval: 30s
tests:
  - interval: 30s
    input_series:
      - series: 'probe_success{probe="health", service="hello", slot="green", host="web-1"}'
        values: '1 1 0 0 0 0 0 0'
      - series: 'probe_success{probe="health", service="hello", slot="blue", host="web-1"}'
        values: '0x7'
      - series: 'switchman_service_slot_active{service="hello", slot="green", version="2", host="web-1"}'
        values: '1x7'
      - series: 'switchman_service_slot_active{service="hello", slot="blue", version="1", host="web-1"}'
        values: '0x7'
      - series: 'switchman_service_slot_up{service="hello", slot="green", version="2", host="web-1"}'
        values: '1x7'
      - series: 'switchman_service_slot_up{service="hello", slot="blue", version="1", host="web-1"}'
        values: '0x7'
      - series: 'up{host="web-1"}'
        values: '1x7'
      - series: 'up{host="web-2"}'
        values: '1 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 3m
        alertname: ServiceProbeFailing
        exp_alerts:
          - exp_labels: {severity: page, probe: health, service: hello, slot: green, host: web-1}
            exp_annotations: {summary: "hello fails its health probe on web-1 (green slot)"}
      - eval_time: 3m
        alertname: ServiceSlotDown
        exp_alerts: []
      - eval_time: 3m
        alertname: HostDown
        exp_alerts:
          - exp_labels: {severity: page, host: web-2}
            exp_annotations: {summary: "web-2 has not heartbeated for heartbeat_ttl"}
    promql_expr_test:
      - expr: service:serving_hosts:count
        eval_time: 3m
        exp_samples:
          - labels: 'service:serving_hosts:count{service="hello"}'
            value: 1
"""


def test_example_rules_in_the_metrics_reference_alert_as_described(tmp_path: Path) -> None:
    page = (DOCS / "metrics.md").read_text()
    [block] = re.findall(r"## Writing rules.*?```yaml\n(.*?)```", page, re.S)
    (tmp_path / "rules.yml").write_text(block)
    (tmp_path / "test.yml").write_text(textwrap.dedent(EXAMPLE_RULES_TEST))
    report = run_file(tmp_path / "test.yml")
    assert report.ok, "\n".join(report.errors + report.failures)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (make system-deps): checked by Switchman's engine only")
    done = subprocess.run(
        [promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_docs_page_is_in_the_readme_index() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if f"(docs/{p.name})" not in readme]
    assert not missing, f"docs pages the README does not link: {missing}"


def test_docs_do_not_point_readers_at_the_spec_or_issue_numbers() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in pages
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bSPEC\b|§|(?<![\w&])#\d+\b|\bissue \d+", line)
    ]
    assert not found, "\n".join(found)
