"""The ``haproxy`` router: drives a real HAProxy through its runtime API on
the admin socket.

The agent generates a minimal HAProxy for the service (``mode tcp`` or, for
``protocol = "http"``, ``mode http``; one frontend on the front port, a
backend named after the service with servers ``blue`` and ``green``) and
starts it, or attaches to an existing HAProxy whose admin socket is given as
``haproxy_socket`` in the spec (same backend and server names expected). A
flip is ``set server BACKEND/NEW state ready`` and ``set weight ... 100``,
then ``set server BACKEND/OLD state drain`` so the old slot's sessions finish
while every new request goes to the new slot; ``set_weights`` sets both
servers' weights; ``connections`` reads ``scur`` from ``show stat``;
``shutdown sessions`` ends what is left when a drain times out.

Request metrics (http mode) come from the same ``show stat``, polled every
:data:`POLL_S`: ``hrsp_1xx`` .. ``hrsp_5xx`` per server (HAProxy counts
status *classes*, so the ``code`` label is ``2xx``, ``5xx``...) and ``rtime``,
the mean response time of the server's last 1024 requests. HAProxy's stats
hold no latency distribution, so there is no histogram from this router
(ADR 0019).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import shutil
import signal
from pathlib import Path

from switchman.agent.services.errors import InvalidService
from switchman.agent.services.routers.builtin import check_weights
from switchman.agent.services.routers.requests import SlotRequests

log = logging.getLogger(__name__)

POLL_S = 1.0

CONFIG = """global
    stats socket {socket} mode 600 level admin
    pidfile {pidfile}
    maxconn 4096

defaults
    mode {mode}
{mode_options}    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch

frontend {name}_front
    bind {address}:{front_port}
    default_backend {name}

backend {name}
{backend_options}    server blue {address}:{blue_port} weight 100 disabled
    server green {address}:{green_port} weight 100 disabled
"""

# http: keep-alive on both sides; a request that meets a closed idle server
# connection is sent again when it is safe to (GET, HEAD, OPTIONS)
HTTP_OPTIONS = """    option http-keep-alive
    http-reuse safe
    retry-on conn-failure empty-response
"""
HTTP_BACKEND = """    http-request disable-l7-retry unless METH_GET || METH_OPTIONS
"""


def render_config(protocol: str, **values: object) -> str:
    """The generated HAProxy configuration for a service of ``protocol`` (tcp | http)."""
    http = protocol == "http"
    return CONFIG.format(
        mode="http" if http else "tcp",
        mode_options=HTTP_OPTIONS if http else "",
        backend_options=HTTP_BACKEND if http else "",
        **values,
    )


class HaproxyError(InvalidService):
    """HAProxy is missing, did not start, or refused a runtime API command."""


class HaproxyRouter:
    def __init__(
        self,
        service: str,
        address: str,
        front_port: int,
        ports: dict[str, int],
        run_dir: Path,
        socket_path: str = "",
        protocol: str = "tcp",
        binary: str = "haproxy",
    ) -> None:
        self.service = service
        self.address = address
        self.front_port = front_port
        self.ports = ports
        self.run_dir = run_dir
        self.attached = bool(socket_path)
        self.socket = Path(socket_path) if socket_path else run_dir / "admin.sock"
        self.pidfile = run_dir / "haproxy.pid"
        self.binary = binary
        self.protocol = protocol
        self.active_slot: str | None = None
        self._scur: dict[str, int] = {}
        self._rows: dict[str, dict[str, str]] = {}  # the last `show stat` row per server
        self._versions: dict[str, str] = {}
        self._baseline: dict[str, dict[str, int]] = {}  # counters when the slot's version started
        self._poller: asyncio.Task[None] | None = None

    async def command(self, cmd: str) -> str:
        """One runtime API command; returns HAProxy's answer."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(self.socket)), 2.0)
        except (OSError, TimeoutError) as exc:
            raise HaproxyError(f"service {self.service}: HAProxy admin socket {self.socket}: {exc}") from None
        try:
            writer.write(cmd.encode() + b"\n")
            await writer.drain()
            answer = (await asyncio.wait_for(reader.read(), 5.0)).decode()
        finally:
            writer.close()
        if answer.strip() and any(w in answer for w in ("Unknown command", "No such", "Require", "not found")):
            raise HaproxyError(f"service {self.service}: HAProxy refused {cmd!r}: {answer.strip()[:200]}")
        return answer

    async def start(self) -> None:
        await self._start()
        self._start_polling()

    async def _start(self) -> None:
        if self.attached:
            await self.command("show info")  # proves the socket answers
            return
        if await self._running():
            log.info("%s: attaching to the HAProxy this agent started earlier", self.service)
            return
        binary = shutil.which(self.binary)
        if binary is None:
            raise HaproxyError(f"service {self.service}: router haproxy needs the `haproxy` command (Debian: haproxy)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        cfg = self.run_dir / "haproxy.cfg"
        cfg.write_text(
            render_config(
                self.protocol,
                socket=self.socket,
                pidfile=self.pidfile,
                name=self.service,
                address=self.address,
                front_port=self.front_port,
                blue_port=self.ports["blue"],
                green_port=self.ports["green"],
            )
        )
        proc = await asyncio.create_subprocess_exec(
            binary,
            "-D",
            "-f",
            str(cfg),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise HaproxyError(f"service {self.service}: haproxy did not start: {out.decode().strip()[-400:]}")
        for _ in range(100):
            if await self._running():
                return
            await asyncio.sleep(0.02)
        raise HaproxyError(f"service {self.service}: haproxy started but its admin socket does not answer")

    async def _running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            await self.command("show info")
        except HaproxyError:
            return False
        return True

    async def flip(self, slot: str, host: str, port: int) -> None:
        old = "green" if slot == "blue" else "blue"
        await self.command(f"set server {self.service}/{slot} state ready")
        await self.command(f"set server {self.service}/{slot} weight 100")
        if self.active_slot is not None or await self._state(old) != "MAINT":
            await self.command(f"set server {self.service}/{old} state drain")
        self.active_slot = slot

    async def _state(self, slot: str) -> str:
        for line in (await self.command("show servers state " + self.service)).splitlines():
            parts = line.split()
            if len(parts) > 6 and parts[3] == slot:
                admin = int(parts[6])  # srv_admin_state: bit 0/1 = maintenance
                return "MAINT" if admin & 0x03 else "READY"
        return "UNKNOWN"

    async def set_weights(self, blue: int, green: int) -> None:
        """``set weight`` on both servers; a server of weight 0 drains (no new requests)."""
        weights = check_weights(self.service, blue, green)
        for slot, w in sorted(weights.items(), key=lambda kv: -kv[1]):  # the weighted one first: never both out
            await self.command(f"set server {self.service}/{slot} state {'ready' if w else 'drain'}")
            if w:
                await self.command(f"set server {self.service}/{slot} weight {w}")

    async def server_rows(self) -> dict[str, dict[str, str]]:
        """The ``show stat`` row of each server of the service's backend."""
        text = (await self.command("show stat")).lstrip("# ")
        return {
            row["svname"]: row
            for row in csv.DictReader(io.StringIO(text))
            if row.get("pxname") == self.service and row.get("svname") in ("blue", "green")
        }

    async def stats(self) -> dict[str, int]:
        """Current sessions (``scur``) per server of the service's backend."""
        return {slot: int(row.get("scur") or 0) for slot, row in (await self.server_rows()).items()}

    def connections(self, slot: str) -> int:
        return self._scur.get(slot, 0)

    async def refresh(self) -> None:
        try:
            self._rows = await self.server_rows()
        except HaproxyError as exc:  # reported by the next flip or probe; the metrics keep the last counts
            log.debug("%s", exc)
            return
        self._scur = {slot: int(row.get("scur") or 0) for slot, row in self._rows.items()}

    def label(self, slot: str, version: str) -> None:
        """Counts of ``slot`` start again from the last polled figures when its version changes."""
        if self._versions.get(slot) != version:
            self._baseline[slot] = _codes(self._rows.get(slot, {}))
        self._versions[slot] = version

    def request_stats(self) -> list[SlotRequests]:
        if self.protocol != "http":
            return []
        out = []
        for slot, row in self._rows.items():
            base = self._baseline.get(slot, {})
            codes = {c: n - base.get(c, 0) for c, n in _codes(row).items() if n > base.get(c, 0)}
            rtime = row.get("rtime") or ""
            mean = int(rtime) / 1000 if rtime.isdigit() else None
            out.append(SlotRequests(slot, self._versions.get(slot, ""), codes, None, mean))
        return out

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            await self.refresh()

    def _start_polling(self) -> None:
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name=f"haproxy-stats:{self.service}")

    async def stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def retire(self, slot: str) -> None:
        """After a drain: end what is left of the old slot's sessions and put it in maintenance."""
        with contextlib.suppress(HaproxyError):
            await self.command(f"shutdown sessions server {self.service}/{slot}")
        await self.command(f"set server {self.service}/{slot} state maint")

    async def detach(self) -> None:
        """The agent is stopping: HAProxy keeps serving; the next start attaches to it."""
        await self.stop_polling()

    async def stop(self) -> None:
        """Stop the HAProxy this agent started (never one it attached to)."""
        await self.stop_polling()
        if self.attached:
            return
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGUSR1)  # soft stop: finish sessions, then exit


_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def _codes(row: dict[str, str]) -> dict[str, int]:
    """HAProxy's per-class response counts of one server row (``hrsp_other`` as ``other``)."""
    out = {c: int(row.get(f"hrsp_{c}") or 0) for c in _CLASSES}
    out["other"] = int(row.get("hrsp_other") or 0)
    return out
