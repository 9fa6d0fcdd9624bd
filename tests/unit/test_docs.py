"""Every config key, flag and CLI command is documented and has help."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from switchman.agent import config as agent_config
from switchman.cli.main import build_parser
from switchman.controller import config as controller_config
from switchman.proto.settings import Key

DOCS = Path(__file__).resolve().parents[2] / "docs"


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
