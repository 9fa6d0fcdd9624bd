"""Versioned service specs (`switchman service apply|show|list`) and single-host
switches through the agents' Agent service: the building blocks rollouts use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from switchman.controller.agents import AgentGateway, SwitchOutcome
from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.fleet import Fleet, Host
from switchman.controller.store.abc import SpecRevision, Store
from switchman.proto.services import ServiceDef, SpecError, parse_toml


@dataclass(frozen=True)
class SpecVersion:
    spec: ServiceDef
    applied_ms: int
    applied_by: str


class ServiceRegistry:
    def __init__(self, store: Store, clock_ms: Callable[[], int], hosts: Callable[[], list[Host]]) -> None:
        """``hosts()``: the registered hosts (a new spec's ports are checked against the hosts it shares)."""
        self._store = store
        self._clock_ms = clock_ms
        self._hosts = hosts
        self._names: frozenset[str] | None = None  # cached: every registration asks

    @staticmethod
    def _versions(rows: list[SpecRevision]) -> list[SpecVersion]:
        out = []
        for row in rows:
            spec = parse_toml(row.source, f"service {row.name}")
            out.append(SpecVersion(replace(spec, revision=row.revision), row.applied_ms, row.applied_by))
        return out

    async def history(self, name: str) -> list[SpecVersion]:
        rows = await asyncio.to_thread(self._store.specs.history, name)
        if not rows:
            raise NotFound(f"no service named {name!r}; apply one with `switchman service apply FILE`")
        return self._versions(rows)

    async def current(self, name: str) -> SpecVersion:
        return (await self.history(name))[-1]

    async def latest_all(self) -> list[SpecVersion]:
        latest: dict[str, SpecVersion] = {}
        for v in self._versions(await asyncio.to_thread(self._store.specs.all)):
            latest[v.spec.name] = v
        return list(latest.values())

    async def apply(self, source: str, file_name: str, actor: str) -> SpecVersion:
        """Validate and store a new revision; unchanged text is not a new revision."""
        try:
            spec = parse_toml(source, file_name or "service.toml")
        except SpecError as exc:
            raise InvalidArgument(str(exc)) from None
        clash = port_clash(spec, [v.spec for v in await self.latest_all()], self._hosts())
        if clash:
            raise Conflict(clash)
        now = self._clock_ms()
        rev, _ = await self._store.write(lambda tx: self._store.specs.add(tx, spec.name, source, now, actor))
        self._names = None
        return SpecVersion(replace(spec, revision=rev), now, actor)

    async def names(self) -> frozenset[str]:
        """The services there are specs for (what an agent may keep running)."""
        if self._names is None:
            rows = await asyncio.to_thread(self._store.specs.all)
            self._names = frozenset(r.name for r in rows)
        return self._names

    async def remove(self, name: str) -> None:
        """Delete every revision of ``name``.

        :raises NotFound: there is no such service."""
        removed = await self._store.write(lambda tx: self._store.specs.remove(tx, name))
        self._names = None
        if not removed:
            raise NotFound(f"no service named {name!r}")


def _ports(spec: ServiceDef) -> dict[int, str]:
    return {spec.front_port: "front", spec.blue_port: "blue", spec.green_port: "green"}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _may_share_hosts(a: dict[str, str], b: dict[str, str], hosts: list[Host]) -> bool:
    """Whether two selectors pick a common host: one contains the other (then
    every host of the narrower one is in both), or a registered host matches both."""
    if any(k in b and b[k] != v for k, v in a.items()):
        return False  # they disagree on a label: no host has both values
    if a.items() <= b.items() or b.items() <= a.items():
        return True
    return any(_matches(a, h.labels) and _matches(b, h.labels) for h in hosts)


def port_clash(spec: ServiceDef, others: list[ServiceDef], hosts: list[Host]) -> str:
    """Why ``spec`` cannot run next to the other services ("" if it can): a
    port it binds is bound by a service that would run on the same hosts."""
    mine = _ports(spec)
    for other in others:
        if other.name == spec.name or not _may_share_hosts(spec.selector, other.selector, hosts):
            continue
        theirs = _ports(other)
        shared = sorted(set(mine) & set(theirs))
        if shared:
            port = shared[0]
            return (
                f"service {spec.name}: its {mine[port]} port {port} is the {theirs[port]} port of service "
                f"{other.name}, which runs on the same hosts (selector {other.selector or 'every host'}); "
                "choose other ports"
            )
    return ""


async def switch_host(
    fleet: Fleet, agents: AgentGateway, spec: ServiceDef, host_id: str, version: str, rollback: bool
) -> SwitchOutcome:
    """One host, by hand (`switchman service switch|rollback`).

    :raises Conflict: the host is down; :raises AgentError: the agent could not."""
    if not fleet.is_up(fleet.get(host_id)):
        raise Conflict(f"host {host_id!r} is down")
    if rollback:
        return await agents.rollback(host_id, spec.name, spec.healthy_deadline_ms / 1000 + 60)
    if not version:
        raise InvalidArgument("version: required")
    timeout = spec.healthy_deadline_ms / 1000 + spec.drain_timeout_ms / 1000 + 30
    return await agents.switch(host_id, spec, version, spec.healthy_deadline_ms, timeout)
