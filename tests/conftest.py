from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Daemon, kill_processes_mentioning


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[Daemon]]:
    """Every daemon a test starts is appended here and killed at the end;
    its log is printed when the test fails."""
    started: list[Daemon] = []
    yield started
    for d in started:
        d.stop()
    kill_processes_mentioning(str(tmp_path))  # service slots run in their own sessions


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        ds = item.funcargs.get("daemons") if hasattr(item, "funcargs") else None
        for d in ds or []:
            report.sections.append((f"log {d.log_path.name}", d.log()[-6000:]))
