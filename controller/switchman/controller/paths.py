"""Config globs to files."""

from __future__ import annotations

import glob


def expand_globs(patterns: list[str]) -> list[str]:
    """Each glob's matches, sorted; a plain path that does not exist is kept, so reading it reports the error."""
    out: list[str] = []
    for p in patterns:
        matched = sorted(glob.glob(p))
        out += matched if matched or any(c in p for c in "*?[") else [p]
    return out
