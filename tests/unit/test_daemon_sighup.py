"""A SIGHUP that reaches the controller while it starts is applied once it runs:
never lost, and never a crash on a scheduler that does not exist yet."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from switchman.controller import config as config_mod
from switchman.controller.daemon import ControllerDaemon

RULES = """groups:
  - name: added
    interval: 1s
    rules:
      - alert: AddedLater
        expr: vector(1)
"""


async def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        await asyncio.sleep(0.02)
    return False


def test_a_sighup_while_starting_is_applied_when_the_controller_runs(tmp_path: Path) -> None:
    config = tmp_path / "controller.toml"
    config.write_text("rule_files = []\n")
    flags: dict[str, object] = {
        "insecure": True,
        "listen": "127.0.0.1:0",
        "http_listen": "",
        "metrics_listen": "",
        "data_dir": str(tmp_path / "c"),
    }
    (tmp_path / "c").mkdir()
    daemon = ControllerDaemon(config_mod.load(str(config), flags), reread=lambda: config_mod.load(str(config), flags))
    (tmp_path / "added.yml").write_text(RULES)
    config.write_text(f'rule_files = ["{tmp_path}/*.yml"]\n')

    async def scenario() -> tuple[list[str], list[tuple[str, str]]]:
        daemon.reload()  # the signal as it lands before the controller runs: its files changed since read
        task = asyncio.create_task(daemon.run())
        ran = await wait_for(lambda: bool(daemon.ref.ready and daemon.c.rules.groups), 20)
        groups = [g.name for g in daemon.c.rules.groups] if ran else []
        await wait_for(lambda: any(e.action == "ReloadConfig" for e in daemon.c.audit.entries()), 10)
        audited = [(e.action, e.result) for e in daemon.c.audit.entries() if e.action == "ReloadConfig"]
        daemon._stop.set()
        assert await task == 0
        return groups, audited

    groups, audited = asyncio.run(scenario())
    assert groups == ["added"], "the reload asked for while starting was applied"
    assert audited == [("ReloadConfig", "ok")], "once, and audited"
