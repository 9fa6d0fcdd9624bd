"""The ``haproxy`` router: drives a real HAProxy through its runtime API on
the admin socket.

The agent generates a minimal HAProxy for the service (HTTP mode, one
frontend on the front port, a backend named after the service with servers
``blue`` and ``green``) and starts it, or attaches to an existing HAProxy
whose admin socket is given as ``haproxy_socket`` in the spec (same backend
and server names expected). A flip is ``set server BACKEND/NEW state ready``
and ``set weight ... 100``, then ``set server BACKEND/OLD state drain`` so the
old slot's sessions finish while every new request goes to the new slot;
``connections`` reads ``scur`` from ``show stat``; ``shutdown sessions``
ends what is left when a drain times out.
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

log = logging.getLogger(__name__)

CONFIG = """global
    stats socket {socket} mode 600 level admin
    pidfile {pidfile}
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch

frontend {name}_front
    bind {address}:{front_port}
    default_backend {name}

backend {name}
    server blue {address}:{blue_port} weight 100 disabled
    server green {address}:{green_port} weight 100 disabled
"""


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
        self.active_slot: str | None = None
        self._scur: dict[str, int] = {}

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
            CONFIG.format(
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

    async def stats(self) -> dict[str, int]:
        """Current sessions (``scur``) per server of the service's backend."""
        text = (await self.command("show stat")).lstrip("# ")
        out: dict[str, int] = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") == self.service and row.get("svname") in ("blue", "green"):
                out[row["svname"]] = int(row.get("scur") or 0)
        return out

    def connections(self, slot: str) -> int:
        return self._scur.get(slot, 0)

    async def refresh(self) -> None:
        try:
            self._scur = await self.stats()
        except HaproxyError as exc:  # reported by the next flip or probe; the metrics keep the last counts
            log.debug("%s", exc)

    async def retire(self, slot: str) -> None:
        """After a drain: end what is left of the old slot's sessions and put it in maintenance."""
        with contextlib.suppress(HaproxyError):
            await self.command(f"shutdown sessions server {self.service}/{slot}")
        await self.command(f"set server {self.service}/{slot} state maint")

    async def detach(self) -> None:
        """The agent is stopping: HAProxy keeps serving; the next start attaches to it."""

    async def stop(self) -> None:
        """Stop the HAProxy this agent started (never one it attached to)."""
        if self.attached:
            return
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGUSR1)  # soft stop: finish sessions, then exit
