"""Commands that never call the controller do not pay for gRPC: `switchman
--version`, `completion`, `--help` and usage errors import neither grpc nor
the generated protobuf modules (nor rich, PyYAML or cryptography)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

HEAVY = ("grpc", "google.protobuf", "switchman.proto.v1", "rich", "yaml", "cryptography")

# Runs the CLI in a fresh interpreter, then reports which heavy modules it imported.
PROBE = """
import json, sys
from switchman.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted({h for m in sys.modules for h in HEAVY if m == h or m.startswith(h + ".")})
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": heavy}))
"""


def run_cli(*argv: str) -> tuple[dict[str, Any], str]:
    r = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return json.loads(r.stderr.rsplit("\n", 1)[1]), r.stdout


@pytest.mark.parametrize(
    ("argv", "code", "shows"),
    [
        (["--version"], 0, "switchman 0.1.0"),
        (["completion", "bash"], 0, "complete -F _switchman switchman"),
        (["completion", "zsh"], 0, "bashcompinit"),
        (["rollout", "start", "--help"], 0, "--max-parallel"),
        (["frobnicate"], 2, ""),
    ],
)
def test_commands_without_the_controller_do_not_import_grpc_or_protobuf(argv: list[str], code: int, shows: str) -> None:
    report, stdout = run_cli(*argv)
    assert report == {"code": code, "heavy": []} and shows in stdout


def test_a_command_that_calls_the_controller_does_import_grpc() -> None:
    """The probe sees imports: a query (to nothing listening) loads grpc and protobuf."""
    report, _ = run_cli("--insecure", "--controller", "127.0.0.1:1", "--timeout", "2", "query", "up")
    assert report["code"] == 3 and {"grpc", "google.protobuf", "switchman.proto.v1"} <= set(report["heavy"])
