"""Which hosts a rollout touches and in which batches."""

from __future__ import annotations

from collections.abc import Sequence

from switchman.controller.errors import InvalidArgument
from switchman.controller.fleet import Host
from switchman.controller.rollouts.model import HostState, HostStep, Options


def matches(host: Host, selector: dict[str, str]) -> bool:
    return all(host.labels.get(k) == v for k, v in selector.items())


def plan(hosts: Sequence[Host], up: set[str], options: Options) -> tuple[list[HostStep], int]:
    """Hosts matching the selector, in host-id order: the canary batch first
    (``options.canary`` hosts), then batches of ``max_parallel``. Down hosts
    are listed as skipped.

    :raises InvalidArgument: when nothing matches or the canary is too big.
    """
    chosen = sorted((h for h in hosts if matches(h, options.selector)), key=lambda h: h.host_id)
    if not chosen:
        sel = ",".join(f"{k}={v}" for k, v in sorted(options.selector.items())) or "(none)"
        raise InvalidArgument(f"selector {sel}: no registered host matches")
    live = [h.host_id for h in chosen if h.host_id in up]
    if options.canary >= len(live) and options.canary > 0 and len(live) > 0:
        raise InvalidArgument(f"canary: {options.canary} host(s) but only {len(live)} up host(s) match; use fewer")
    steps: list[HostStep] = []
    batch = 0
    if options.canary > 0:
        steps += [HostStep(h, 0) for h in live[: options.canary]]
        live = live[options.canary :]
        batch = 1
    for i in range(0, len(live), options.max_parallel):
        steps += [HostStep(h, batch) for h in live[i : i + options.max_parallel]]
        batch += 1
    steps += [
        HostStep(h.host_id, -1, HostState.SKIPPED, message="down when the rollout started")
        for h in chosen
        if h.host_id not in up
    ]
    return steps, batch
