"""A silence (SPEC 4.3): label matchers with a time window, and the state it
is in at a given time. A plain value: :mod:`~switchman.controller.notify.silences`
keeps them, the store persists them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from switchman.controller.notify.matchers import matches_all
from switchman.controller.promql.ast import Matcher


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_ms: int
    ends_ms: int
    created_by: str
    comment: str
    created_ms: int

    def state(self, now_ms: int) -> SilenceState:
        if now_ms >= self.ends_ms:
            return SilenceState.EXPIRED
        return SilenceState.PENDING if now_ms < self.starts_ms else SilenceState.ACTIVE

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> bool:
        return self.state(now_ms) is SilenceState.ACTIVE and matches_all(self.matchers, labels)
