"""Usage errors: one line naming what is wrong, then a hint to the right
``--help``; exit code 2; never argparse's usage block. Help never cites SPEC."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from switchman.cli.main import build_parser, main
from switchman.cli.parsing import subparsers


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SWITCHMAN_CONTROLLER", "SWITCHMAN_TOKEN", "SWITCHMAN_TLS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWITCHMAN_CONFIG", str(tmp_path / "absent.toml"))


@pytest.mark.parametrize(
    ("argv", "error", "hint"),
    [
        (["foo"], "switchman: error: unknown command 'foo'", "Try 'switchman --help'"),
        (["statsu"], "switchman: error: unknown command 'statsu' (did you mean 'status'?)", "Try 'switchman --help'"),
        (
            ["rollout", "strat"],
            "switchman: error: rollout: unknown command 'strat' (did you mean 'start'?)",
            "Try 'switchman rollout --help'",
        ),
        (
            ["rollout", "start", "hello"],
            "switchman: error: rollout start: the following arguments are required: --version",
            "Try 'switchman rollout start --help'",
        ),
        (
            ["rollout"],
            "switchman: error: rollout: missing command: one of start, status, list, history, promote, abort, "
            "pause, resume, rollback",
            "Try 'switchman rollout --help'",
        ),
        (
            ["query", "up", "--bogus"],
            "switchman: error: query: unrecognized arguments: --bogus",
            "Try 'switchman query --help'",
        ),
        (
            ["query", "up", "-o", "xml"],
            "switchman: error: query: argument -o/--output: invalid choice: 'xml' (choose from 'table', 'json', 'yaml')",
            "Try 'switchman query --help'",
        ),
        (
            ["--insecure", "hosts", "show"],
            "switchman: hosts show needs a HOST_ID",
            "Try 'switchman hosts --help'",
        ),
        (
            ["--insecure", "silence", "add", "alertname==Foo", "-c", "x"],
            "switchman: matcher 'alertname==Foo': '==' is not an operator; "
            "expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX (quote a value that starts with =, ! or ~)",
            "Try 'switchman silence add --help'",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_a_hint(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str, hint: str
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert (out, err.splitlines()) == ("", [error, hint])


def test_no_help_text_cites_the_spec() -> None:
    root = build_parser()
    for parser in [root, *subparsers(root)]:
        texts = [parser.description or "", parser.format_help()]
        texts += [a.help for a in parser._actions if isinstance(a.help, str)]
        cited = [t for t in texts if "SPEC" in t or "§" in t]
        assert not cited, (parser.prog, cited)
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    assert all("SPEC" not in (c.help or "") for c in sub._choices_actions)


def test_completion_offers_the_global_flags_after_a_command_but_no_hidden_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    query = next(line for line in script.splitlines() if line.strip().startswith("query)"))
    assert "--range" in query and "--output" in query and "--controller" in query
    assert "--ca " not in script and '--ca"' not in script
