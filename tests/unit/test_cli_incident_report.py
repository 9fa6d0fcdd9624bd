"""`incidents report` shows no MTTA for incidents nobody acknowledged (and no
MTTR when none resolved): `-` in the table, null in JSON, never `0s`."""

from __future__ import annotations

from switchman.cli.commands.incidents import mtt_doc, mtt_row
from switchman.proto.v1 import ops_pb2


def test_an_unacknowledged_incident_has_no_mtta() -> None:
    never = ops_pb2.MttStat(key="P2", incidents=1, mtta_seconds=0.0, mttr_seconds=90.0, acknowledged=0, resolved=1)
    assert mtt_row(never) == ["P2", "1", "-", "90s"]
    assert mtt_doc(never) == {
        "incidents": 1,
        "acknowledged": 0,
        "resolved": 1,
        "mtta_seconds": None,
        "mttr_seconds": 90.0,
    }
    acked = ops_pb2.MttStat(key="P1", incidents=2, mtta_seconds=12.0, mttr_seconds=0.0, acknowledged=1, resolved=0)
    assert mtt_row(acked) == ["P1", "2", "12s", "-"]
    assert mtt_doc(acked)["mttr_seconds"] is None
