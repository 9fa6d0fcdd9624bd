from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families
from switchman.agent.collect import Family, HostCollector
from switchman.agent.collect.exposition import MetricsServer, render


def test_host_metrics_use_node_exporter_names_and_real_readings() -> None:
    c = HostCollector()
    c.collect()
    end = time.monotonic() + 0.1
    while time.monotonic() < end:  # let the CPU counters move (10ms ticks) between the two readings
        pass
    fams = {f.name: f for f in c.collect()}
    for name in (
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_load1",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_network_receive_bytes_total",
        "node_boot_time_seconds",
        "node_processes_pids",
    ):
        assert fams[name].samples, name
    cpu_labels = {dict(lbl)["mode"] for lbl, _ in fams["node_cpu_seconds_total"].samples}
    assert {"user", "system", "idle"} <= cpu_labels
    total = fams["node_memory_MemTotal_bytes"].samples[0][1]
    avail = fams["node_memory_MemAvailable_bytes"].samples[0][1]
    assert 0 < avail <= total
    mounts = {dict(lbl)["mountpoint"] for lbl, _ in fams["node_filesystem_size_bytes"].samples}
    assert "/" in mounts and not any(m.startswith(("/proc", "/sys")) for m in mounts)
    lo = {dict(lbl)["device"] for lbl, _ in fams["node_network_receive_bytes_total"].samples}
    assert "lo" in lo
    [(_, util)] = fams["switchman_node_cpu_utilisation_ratio"].samples
    assert 0.0 <= util <= 1.0


def test_rendered_text_parses_with_prometheus_client() -> None:
    f = Family("node_cpu_seconds_total", "counter", "Seconds\nspent.")
    f.add(12.5, ("cpu", "0"), ("mode", 'we"ird\\'))
    g = Family("node_load1", "gauge", "1m load average.")
    g.add(float("inf"))
    parsed = {m.name: m for m in text_string_to_metric_families(render([f, g]).decode())}
    [s] = parsed["node_cpu_seconds"].samples
    assert s.name == "node_cpu_seconds_total" and s.labels == {"cpu": "0", "mode": 'we"ird\\'} and s.value == 12.5
    assert parsed["node_load1"].samples[0].value == float("inf")


def test_metrics_endpoint_serves_and_survives_garbage() -> None:
    async def go() -> None:
        async def read() -> list[Family]:
            f = Family("node_load1", "gauge", "x")
            f.add(1.0)
            return [f]

        server = MetricsServer(read)
        port = await server.start("127.0.0.1", 0)

        async def ask(raw: bytes) -> bytes:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(raw)
            await w.drain()
            data = await asyncio.wait_for(r.read(), 5)
            w.close()
            return data

        ok = await ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200 OK") and b"node_load1 1.0" in ok
        assert (await ask(b"POST /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 405")
        assert (await ask(b"GET /nope HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
        assert await ask(b"\xff" * 9000) == b""  # oversized garbage: closed, nothing served
        assert (await ask(b"GET /metrics HTTP/1.0\r\n\r\n")).startswith(b"HTTP/1.1 200")
        await server.stop()

    asyncio.run(go())


def test_a_histogram_family_renders_and_parses_as_one_histogram() -> None:
    from switchman.agent.services.routers.requests import Histogram

    h = Histogram()
    for seconds in (0.001, 0.02, 0.3, 20.0):
        h.observe(seconds)
    f = Family("switchman_service_request_duration_seconds", "histogram", "Latency.")
    for le, n in h.cumulative():
        f.add_part("_bucket", n, ("slot", "blue"), ("le", le))
    f.add_part("_sum", h.sum, ("slot", "blue"))
    f.add_part("_count", h.count, ("slot", "blue"))
    [m] = text_string_to_metric_families(render([f]).decode())
    assert m.type == "histogram"
    got = {(s.name, s.labels.get("le", "")): s.value for s in m.samples}
    assert got[("switchman_service_request_duration_seconds_bucket", "0.005")] == 1
    assert got[("switchman_service_request_duration_seconds_bucket", "0.5")] == 3
    assert got[("switchman_service_request_duration_seconds_bucket", "+Inf")] == 4
    assert got[("switchman_service_request_duration_seconds_count", "")] == 4
    assert abs(got[("switchman_service_request_duration_seconds_sum", "")] - 20.321) < 1e-9
