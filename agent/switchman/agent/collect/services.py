"""``switchman_service_slot_*``: one sample per slot that holds a version or
runs something, read from the slot view the Agent servicer also serves; and
for ``protocol = "http"`` services the request metrics their routers count
(``switchman_service_requests_total``, ``..._request_duration_seconds``,
HAProxy's ``..._response_time_seconds``)."""

from __future__ import annotations

from switchman.agent.collect.model import Family
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.view import service_views


class ServiceSlotCollector:
    def __init__(self, services: ServiceManager) -> None:
        self._services = services

    def collect(self) -> list[Family]:
        up = Family("switchman_service_slot_up", "gauge", "1 when the slot's process runs.")
        active = Family("switchman_service_slot_active", "gauge", "1 for the slot that gets the traffic.")
        rss = Family("switchman_service_slot_resident_memory_bytes", "gauge", "Resident memory of the slot.")
        cpu = Family("switchman_service_slot_cpu_seconds_total", "counter", "CPU time of the slot.")
        fds = Family("switchman_service_slot_open_fds", "gauge", "Open file descriptors of the slot.")
        restarts = Family("switchman_service_slot_restarts_total", "counter", "Restarts of the slot after it died.")
        conns = Family("switchman_service_slot_connections", "gauge", "Connections the router holds open to the slot.")
        for view in service_views(self._services):
            for slot in view.slots:
                if not slot.in_use:
                    continue
                labels = (("service", view.record.name), ("slot", slot.slot), ("version", slot.version))
                proc = slot.process
                up.add(1.0 if proc.running else 0.0, *labels)
                active.add(1.0 if slot.active else 0.0, *labels)
                rss.add(proc.rss_bytes, *labels)
                cpu.add(proc.cpu_seconds, *labels)
                fds.add(proc.open_fds, *labels)
                restarts.add(proc.restarts, *labels)
                conns.add(slot.connections, *labels)
        return [up, active, rss, cpu, fds, restarts, conns, *self._requests()]

    def _requests(self) -> list[Family]:
        total = Family("switchman_service_requests_total", "counter", "Responses the router passed, by status code.")
        duration = Family(
            "switchman_service_request_duration_seconds",
            "histogram",
            "Time from a request's head at the router to the end of its response (builtin router).",
        )
        rtime = Family(
            "switchman_service_response_time_seconds",
            "gauge",
            "Mean time to the response head over the slot's last 1024 requests (HAProxy's rtime).",
        )
        for name, router in list(self._services.routers.items()):
            for st in router.request_stats():
                labels = (("service", name), ("slot", st.slot), ("version", st.version))
                for code, n in sorted(st.codes.items()):
                    total.add(n, *labels, ("code", code))
                if st.duration is not None:
                    for le, n in st.duration.cumulative():
                        duration.add_part("_bucket", n, *labels, ("le", le))
                    duration.add_part("_sum", st.duration.sum, *labels)
                    duration.add_part("_count", st.duration.count, *labels)
                if st.mean_response_s is not None:
                    rtime.add(st.mean_response_s, *labels)
        return [total, duration, rtime]
