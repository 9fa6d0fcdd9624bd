"""The sample HTTP service of the demo and the tests.

    python3 app.py --version 1 --host 127.0.0.2 --port 18081 [--slot blue] [--fail-health]

`GET /` answers ``hello from VERSION (SLOT)``, `GET /bytes/N` N bytes, `GET /health` 200 (or 503 with
--fail-health, or a version ending in ``-unhealthy``: a version that never turns healthy). HTTP/1.1 keep-alive. On
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


IDLE_CLOSE_AFTER = 0.25  # while draining, a keep-alive connection idle this long is closed


def make_handler(version: str, slot: str, fail_health: bool) -> type[BaseHTTPRequestHandler]:
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
            if self.path == "/health":
                code, body = (503, b"unhealthy\n") if fail_health else (200, b"ok\n")
            elif self.path.startswith("/bytes/") and self.path[7:].isdigit():
                code, body = 200, b"x" * min(int(self.path[7:]), 64 * 2**20)  # for bandwidth tests
            else:
                code, body = 200, f"hello from {version} ({slot})\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
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
    args = p.parse_args()
    try:
        fail = args.fail_health or args.version.endswith("-unhealthy")
        server = ThreadingHTTPServer((args.host, args.port), make_handler(args.version, args.slot, fail))
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
