"""An alert's identity across rules, restarts and notifiers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def fingerprint(labels: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]
