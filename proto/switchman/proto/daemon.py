"""What both daemons share at the process edge: logging and systemd notify."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg`` and extras."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, separators=(",", ":"))


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Log to stderr, one line per event."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # libraries' chatter stays out unless asked for
    for noisy in ("apscheduler", "asyncio", "grpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


class SystemdNotifier:
    """sd_notify(3) over ``$NOTIFY_SOCKET``; does nothing when not under systemd."""

    def __init__(self, socket_path: str | None = None) -> None:
        self._path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        enabled = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self.watchdog_interval_s: float | None = int(usec) / 2e6 if enabled else None
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self._path)

    def notify(self, state: str) -> None:
        if not self._path:
            return
        addr = self._path
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # never block the caller (the event loop) on a reader that is slow or gone
            sock.setblocking(False)
            try:
                sock.connect(addr)
                sock.send(state.encode())
            except BlockingIOError:
                logging.getLogger(__name__).debug("sd_notify to %s dropped: receiver's queue is full", self._path)
            except OSError as exc:
                logging.getLogger(__name__).warning("sd_notify to %s failed: %s", self._path, exc)

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def reloading(self) -> None:
        self.notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")
