"""The controller generates the SLO alerts for its own `slo_period`: Sloth's
burn factors for 28 days differ from the 30-day ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from switchman.controller.wiring import build, settings

from tests.helpers import in_own_loop

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sloth" / "checkout.yml"


@pytest.mark.parametrize(("period", "factor"), [("28d", "13.44"), ("30d", "14.4")])
def test_alerts_use_the_periods_burn_factors(tmp_path: Path, period: str, factor: str) -> None:
    @in_own_loop(30)
    async def go() -> None:
        c = await build(settings(tmp_path, slo_period=period, slo_files=[str(FIXTURE)]))
        try:
            pages = [
                r.expr_text
                for g in c.rules.groups
                for r in g.rules
                if r.kind == "alerting" and "ratio_rate5m{" in r.expr_text
            ]
            assert pages and all(f"> ({factor} * " in e for e in pages), pages
        finally:
            await c.close()

    go()
