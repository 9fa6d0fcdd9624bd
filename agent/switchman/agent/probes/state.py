"""Consul's check semantics as a pure state machine."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASSING = "passing"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass
class ProbeState:
    """Starts critical. Turns passing after ``success_before_passing``
    consecutive successes, critical after ``failures_before_critical``
    consecutive failures; an exec probe's exit 1 is warning at once."""

    success_before_passing: int = 1
    failures_before_critical: int = 1
    status: Status = Status.CRITICAL
    successes: int = 0
    failures: int = 0
    total_passes: int = 0

    def observe(self, success: bool, warning: bool = False) -> Status | None:
        """Record one result; returns the new status when it changed."""
        before = self.status
        if warning:
            self.successes = self.failures = 0
            self.status = Status.WARNING
        elif success:
            self.failures = 0
            self.successes += 1
            self.total_passes += 1
            if self.successes >= self.success_before_passing:
                self.status = Status.PASSING
        else:
            self.successes = 0
            self.failures += 1
            if self.failures >= self.failures_before_critical:
                self.status = Status.CRITICAL
        return self.status if self.status is not before else None
