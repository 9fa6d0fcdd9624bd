"""Drill files from the controller's ``drill_files`` globs (scheduled ones
run by cron). A reload with an invalid file keeps the previous set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from switchman.controller.chaos.spec import DrillSpec, DrillSpecError, parse_drill
from switchman.controller.paths import expand_globs


@dataclass
class DrillFiles:
    patterns: list[str]
    specs: list[DrillSpec] = field(default_factory=list)

    def load(self) -> list[str]:
        """(Re)load; on any error keep the current specs and return the errors."""
        specs, errors = [], []
        for f in expand_globs(self.patterns):
            try:
                specs.append(parse_drill(Path(f).read_text(), f))
            except OSError as exc:
                errors.append(f"{f}: cannot read: {exc.strerror or exc}")
            except DrillSpecError as exc:
                errors += str(exc).splitlines()
        if errors:
            return errors
        self.specs = specs
        return []
