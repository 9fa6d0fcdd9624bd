"""The scrape targets of running service slots: a spec with ``metrics_path``
is scraped on each running slot's back port, its series labelled with the
service, the slot and the version the slot runs."""

from __future__ import annotations

import contextlib

from switchman.agent.scrape.targets import ScrapeTarget
from switchman.agent.services.errors import UnknownService
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.view import service_views


def slot_targets(services: ServiceManager, address: str, interval: float) -> list[ScrapeTarget]:
    out = []
    for view in service_views(services):
        name = view.record.name
        with contextlib.suppress(UnknownService):
            path = services.spec(name).metrics_path
            if not path:
                continue
            for slot in view.slots:
                if slot.process.running and slot.port:
                    out.append(
                        ScrapeTarget(
                            job=name,
                            url=f"http://{address}:{slot.port}{path}",
                            interval=interval,
                            timeout=min(interval, 10.0),
                            extra=(("service", name), ("slot", slot.slot), ("version", slot.version)),
                        )
                    )
    return out
