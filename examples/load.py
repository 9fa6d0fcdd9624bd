"""Steady HTTP load for the demo and the tests: keep-alive clients on every
host's front port, counting answers by version and failures. Bounded: it
runs only between ``__enter__`` and ``__exit__``."""

from __future__ import annotations

import http.client
import threading
import time


class Load:
    """Keep-alive HTTP clients on every host's front port, counting failures."""

    def __init__(self, targets: list[tuple[str, int]], per_target: int = 2) -> None:
        self.ok = 0
        self.failed = 0
        self.versions: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=t, daemon=True) for t in targets * per_target]
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)

    def _client(self, host: str, port: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        while not self._stop.is_set():
            try:
                conn.request("GET", "/")
                resp = conn.getresponse()
                body = resp.read().decode()
                with self._lock:
                    self.ok += resp.status == 200
                    self.failed += resp.status != 200
                    version = body.split()[2] if body.startswith("hello from") else "?"
                    self.versions[version] = self.versions.get(version, 0) + 1
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.failed += 1
                conn.close()
                time.sleep(0.01)
        conn.close()
