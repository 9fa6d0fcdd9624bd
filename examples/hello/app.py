"""The sample HTTP service of the demo and the tests.

    python3 app.py --version 1 --host 127.0.0.2 --port 18081 [--slot blue] [--fail-health] [--latency-ms 20-60]

`GET /` answers ``hello from VERSION (SLOT)``, taking --latency-ms LO-HI milliseconds (spread evenly
over the range, request after request; a version ending in ``-slowN`` takes N % longer), and a version
ending in ``-errN`` answers N % of them 500 (every 100/N-th, its probe still green), `GET /bytes/N` N bytes, `GET /health` 200 (or 503 with
--fail-health, or a version ending in ``-unhealthy``: a version that never turns healthy), `GET /metrics`
its request counts and latencies in Prometheus' text format. HTTP/1.1 keep-alive. On
SIGTERM it drains like a well-behaved service: it stops accepting, answers
every further request on open connections with ``Connection: close``, and
exits when they are closed (at most --grace seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DrainAware(BaseHTTPRequestHandler):
    busy = False  # between reading a request line and sending the response
    last_active = 0.0


class State:
    draining = False
    open_connections = 0
    lock = threading.Lock()
    handlers: set[DrainAware] = set()


class Metrics:
    """Requests by route and code, and their latency as a histogram (``hello_http_*``)."""

    BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)
    lock = threading.Lock()
    requests: dict[tuple[str, int], int] = {}
    buckets: dict[str, list[int]] = {}
    sums: dict[str, float] = {}

    @classmethod
    def observe(cls, route: str, code: int, seconds: float) -> None:
        with cls.lock:
            cls.requests[(route, code)] = cls.requests.get((route, code), 0) + 1
            counts = cls.buckets.setdefault(route, [0] * (len(cls.BUCKETS) + 1))
            for i, le in enumerate(cls.BUCKETS):
                if seconds <= le:
                    counts[i] += 1
            counts[-1] += 1
            cls.sums[route] = cls.sums.get(route, 0.0) + seconds

    @classmethod
    def render(cls, version: str) -> bytes:
        lines = [
            "# HELP hello_build_info The version this process serves.",
            "# TYPE hello_build_info gauge",
            f'hello_build_info{{version="{version}"}} 1',
            "# HELP hello_http_requests_total Requests answered, by route and status code.",
            "# TYPE hello_http_requests_total counter",
        ]
        with cls.lock:
            for (route, code), n in sorted(cls.requests.items()):
                lines.append(f'hello_http_requests_total{{route="{route}",code="{code}"}} {n}')
            lines += [
                "# HELP hello_http_request_duration_seconds Time to answer a request.",
                "# TYPE hello_http_request_duration_seconds histogram",
            ]
            for route, counts in sorted(cls.buckets.items()):
                for le, n in zip([*map(str, cls.BUCKETS), "+Inf"], counts, strict=True):
                    lines.append(f'hello_http_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {n}')
                lines.append(f'hello_http_request_duration_seconds_sum{{route="{route}"}} {cls.sums[route]!r}')
                lines.append(f'hello_http_request_duration_seconds_count{{route="{route}"}} {counts[-1]}')
        return ("\n".join(lines) + "\n").encode()


class Behaviour:
    """What `GET /` costs and how often it fails, from --latency-ms and the version's suffix."""

    def __init__(self, version: str, latency_ms: str) -> None:
        lo, _, hi = latency_ms.partition("-")
        self.low, self.high = float(lo or 0) / 1000, float(hi or lo or 0) / 1000
        suffix = version.rsplit("-", 1)[-1] if "-" in version else ""
        self.slower = 1 + int(suffix[4:]) / 100 if suffix.startswith("slow") and suffix[4:].isdigit() else 1.0
        self.error_share = int(suffix[3:]) / 100 if suffix.startswith("err") and suffix[3:].isdigit() else 0.0
        self.lock = threading.Lock()
        self.served = 0

    def next(self) -> tuple[float, bool]:
        """(seconds to wait, answer 500) for the next request: deterministic, so shares are exact."""
        with self.lock:
            n = self.served
            self.served += 1
        spread = (n * 0.6180339887498949) % 1.0  # golden-ratio steps cover the range evenly
        fail = int((n + 1) * self.error_share) > int(n * self.error_share)
        return (self.low + (self.high - self.low) * spread) * self.slower, fail


IDLE_CLOSE_AFTER = 0.25  # while draining, a keep-alive connection idle this long is closed


def make_handler(
    version: str, slot: str, fail_health: bool, behaviour: Behaviour | None = None
) -> type[BaseHTTPRequestHandler]:
    costs = behaviour or Behaviour(version, "")

    class Handler(DrainAware):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def setup(self) -> None:
            super().setup()
            self.last_active = time.monotonic()
            with State.lock:
                State.open_connections += 1
                State.handlers.add(self)

        def finish(self) -> None:
            super().finish()
            with State.lock:
                State.open_connections -= 1
                State.handlers.discard(self)

        def parse_request(self) -> bool:
            self.busy = True  # a request line arrived
            return super().parse_request()

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            finally:
                self.busy = False
                self.last_active = time.monotonic()

        def do_GET(self) -> None:
            started = time.perf_counter()
            content_type = "text/plain"
            if self.path == "/health":
                route = "/health"
                code, body = (503, b"unhealthy\n") if fail_health else (200, b"ok\n")
            elif self.path.startswith("/bytes/") and self.path[7:].isdigit():
                route = "/bytes"
                code, body = 200, b"x" * min(int(self.path[7:]), 64 * 2**20)  # for bandwidth tests
            elif self.path == "/metrics":
                route, code, body = "/metrics", 200, Metrics.render(version)
                content_type = "text/plain; version=0.0.4; charset=utf-8"
            else:
                route = "/"
                delay, fail = costs.next()
                if delay > 0:
                    time.sleep(delay)
                code, body = (
                    (500, b"failed on purpose\n") if fail else (200, f"hello from {version} ({slot})\n".encode())
                )
            Metrics.observe(route, code, time.perf_counter() - started)
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Version", version)
            if State.draining:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: a log line per request is too much
            pass

    return Handler


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--version", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    p.add_argument("--slot", default=os.environ.get("SWITCHMAN_SLOT", ""))
    p.add_argument("--fail-health", action="store_true")
    p.add_argument("--grace", type=float, default=10.0)
    p.add_argument("--latency-ms", default="", help="LO-HI: GET / takes this long (spread evenly over the range)")
    args = p.parse_args()
    try:
        fail = args.fail_health or args.version.endswith("-unhealthy")
        server = ThreadingHTTPServer(
            (args.host, args.port),
            make_handler(args.version, args.slot, fail, Behaviour(args.version, args.latency_ms)),
        )
    except OSError as exc:
        print(f"hello: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    server.daemon_threads = True
    stopping: list[int] = []  # the handler only appends: no lock can be held when a signal lands
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _frame: stopping.append(signum))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    print(f"hello {args.version} ({args.slot}) on {args.host}:{args.port}", flush=True)
    while not stopping:
        time.sleep(0.05)
    State.draining = True
    server.shutdown()  # no new connections
    server.server_close()
    end = time.monotonic() + args.grace
    while State.open_connections and time.monotonic() < end:
        # busy connections get `Connection: close` on their response; idle keep-alive ones (a proxy's pool)
        # are closed once they have been idle a moment, so they cannot race a request being sent
        with State.lock:
            idle = [h for h in State.handlers if not h.busy and time.monotonic() - h.last_active > IDLE_CLOSE_AFTER]
        for h in idle:
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
        time.sleep(0.02)
    return 0


if __name__ == "__main__":
    sys.exit(main())
