"""SLO files as Sloth reads them: one spec per YAML document, subquery SLIs,
``{{ .window }}`` with spaces; and the errors: unknown keys named with the
document and the key path, Sloth's plugins refused by name, bad documents."""

from __future__ import annotations

import pytest
from switchman.controller.slo.spec import SLOSpecError, parse_slo_file

DOC = """version: prometheus/v1
service: {service}
slos:
  - name: requests
    objective: 99
    sli:
      events:
        error_query: sum(rate(errors_total[{{{{.window}}}}]))
        total_query: sum(rate(requests_total[{{{{ .window }}}}]))
"""
TWO = DOC.format(service="web") + "---\n" + DOC.format(service="api")


def errors(text: str) -> str:
    with pytest.raises(SLOSpecError) as exc:
        parse_slo_file(text, "s.yml")
    return str(exc.value)


def test_every_document_of_a_multi_document_file_is_an_slo_spec() -> None:
    slos = parse_slo_file("# leading comment\n---\n" + TWO + "---\n", "s.yml")
    assert [s.id for s in slos] == ["web-requests", "api-requests"]
    assert slos[1].total_query == "sum(rate(requests_total[{{.window}}]))"


def test_errors_of_a_later_document_name_it_and_the_key_path() -> None:
    text = TWO.replace("    objective: 99\n", "    objective: 99\n    objetive: 98\n", 2)
    assert errors(text).splitlines() == [
        "s.yml:6:5: document 1: slos[0].objetive: unknown key (known: alerting, description, labels, "
        "min_events, name, objective, plugins, sli)",
        "s.yml:17:5: document 2: slos[0].objetive: unknown key (known: alerting, description, labels, "
        "min_events, name, objective, plugins, sli)",
    ]


@pytest.mark.parametrize(
    ("insert_after", "line", "expected"),
    [
        ("service: web\n", "servce: x\n", "s.yml:3:1: servce: unknown key"),
        ("      events:\n", "        eror_query: x\n", "slos[0].sli.events.eror_query: unknown key"),
        (
            "        total_query: sum(rate(requests_total[{{ .window }}]))\n",
            "    alerting:\n      name: A\n      page_alert: {disabled: true}\n",
            "slos[0].alerting.page_alert.disabled: unknown key (known: annotations, disable, labels)",
        ),
        ("    sli:\n", "      rae: {}\n", "slos[0].sli.rae: unknown key"),
    ],
)
def test_unknown_keys_are_named_with_their_path(insert_after: str, line: str, expected: str) -> None:
    text = DOC.format(service="web").replace(insert_after, insert_after + line, 1)
    assert expected in errors(text)


def test_sli_plugins_are_refused_by_plugin_id() -> None:
    text = DOC.format(service="web").replace(
        "      events:\n", "      plugin:\n        id: sloth-common/availability\n      events:\n", 1
    )
    assert (
        "s.yml:7:7: slos[0].sli.plugin: SLI plugins are not supported (plugin 'sloth-common/availability')"
        in errors(text)
    )


def test_slo_plugin_chains_are_refused_not_ignored() -> None:
    chain = "  chain:\n    - id: sloth.dev/core/debug/v1\n    - id: example/labels/v1\n"
    text = "slo_plugins:\n" + chain + DOC.format(service="web")
    assert (
        "s.yml:1:1: slo_plugins: SLO plugins are not supported (plugins: 'sloth.dev/core/debug/v1', "
        "'example/labels/v1')" in errors(text)
    )
    plugins = "    plugins:\n      chain:\n        - id: sloth.dev/core/debug/v1\n"
    per_slo = DOC.format(service="web").replace("    objective: 99\n", "    objective: 99\n" + plugins, 1)
    assert "slos[0].plugins: SLO plugins are not supported (plugins: 'sloth.dev/core/debug/v1'" in errors(per_slo)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DOC.format(service="web") + "---\n- a list\n", "s.yml:11:1: document 2: expected a mapping"),
        (DOC.format(service="web") + "---\nversion: [\n", "s.yml:12:1: not valid YAML"),
        ("", "s.yml: expected a mapping with version, service and slos"),
        (TWO.replace("service: api", "service: api\nversion: sloth/v1"), "document 2: version: 'sloth/v1'"),
    ],
)
def test_bad_documents_are_named(text: str, expected: str) -> None:
    assert expected in errors(text)


def test_subquery_slis_are_accepted() -> None:
    text = DOC.format(service="web").replace(
        "sum(rate(errors_total[{{.window}}]))", "sum(max_over_time(rate(errors_total[1m])[{{.window}}:30s]))"
    )
    [slo] = parse_slo_file(text, "s.yml")
    assert slo.error_query == "sum(max_over_time(rate(errors_total[1m])[{{.window}}:30s]))"


def test_alert_annotations_of_page_and_ticket_are_kept_apart() -> None:
    text = DOC.format(service="web") + (
        "    alerting:\n      name: WebBurn\n      annotations: {runbook: r}\n"
        "      page_alert: {annotations: {summary: fast}}\n      ticket_alert: {annotations: {summary: slow}}\n"
    )
    [slo] = parse_slo_file(text, "s.yml")
    assert slo.alert.annotations == {"runbook": "r"}
    assert (slo.alert.page_annotations, slo.alert.ticket_annotations) == ({"summary": "fast"}, {"summary": "slow"})
