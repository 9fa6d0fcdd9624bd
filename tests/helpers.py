"""Test helpers: polling with a deadline, free ports, real daemon processes."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BIN = Path(sys.executable).parent


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def in_own_loop(timeout: float) -> Callable[[Callable[..., Coroutine[Any, Any, None]]], Callable[..., None]]:
    """A decorator: run an async test body on its own event loop, failing after ``timeout`` seconds."""

    def decorate(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            asyncio.run(asyncio.wait_for(fn(*args, **kwargs), timeout))

        return wrapper

    return decorate


def hello_service(app: Path, front: int, blue: int, green: int, name: str = "hello") -> str:
    """The start of a service spec running the example HTTP service ``app``
    (examples/hello/app.py or a copy): name, command, ports. Callers add the rest."""
    args = '"--version", "{version}", "--host", "{address}", "--port", "{port}", "--slot", "{slot}"'
    return (
        f'name = "{name}"\n'
        f'command = ["{sys.executable}", "{app}", {args}]\n'
        f"front_port = {front}\n"
        f"back_ports = {{ blue = {blue}, green = {green} }}\n"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Daemon:
    """A real daemon process with its log file."""

    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}, start_new_session=True
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 20) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def controller_argv(data_dir: Path, port: int, metrics_port: int | None = None, *extra: str) -> list[str]:
    return [
        str(BIN / "switchman-controller"),
        "--insecure",
        "--listen",
        f"127.0.0.1:{port}",
        "--data-dir",
        str(data_dir),
        "--metrics-listen",
        f"127.0.0.1:{metrics_port}" if metrics_port else "",
        "--http-listen",
        "127.0.0.1:0",
        *extra,
    ]


def agent_argv(data_dir: Path, controller_port: int, address: str, host_id: str, *extra: str) -> list[str]:
    return [
        str(BIN / "switchman-agent"),
        "--insecure",
        "--controller",
        f"127.0.0.1:{controller_port}",
        "--listen",
        f"{address}:0",
        "--data-dir",
        str(data_dir),
        "--host-id",
        host_id,
        "--metrics-listen",
        "",
        *extra,
    ]


def db_rows(path: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read the controller's database from the side (WAL allows it while it runs)."""
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return list(conn.execute(sql, args))
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def series_values(db: Path, name: str, host: str) -> list[tuple[int, float]]:
    rows = db_rows(
        db,
        "SELECT s.ts, s.value FROM samples s JOIN series r ON r.id = s.series_id "
        "WHERE r.name = ? AND json_extract(r.labels, '$.host') = ? ORDER BY s.ts",
        (name, host),
    )
    return [(int(t), float(v)) for t, v in rows]  # type: ignore[call-overload]


def kill_processes_mentioning(text: str) -> int:
    """Kill every process whose command line mentions ``text``; returns how many."""
    import psutil

    n = 0
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(text in a for a in p.info["cmdline"] or []):
                p.kill()
                n += 1
        except psutil.Error:
            pass
    return n


@dataclass
class TlsController:
    """A controller on mutual TLS with a fresh PKI: agents on ``port``, the CLI on ``ops``."""

    pki: Path
    port: int
    ops: int
    daemon: Daemon

    def cli_args(self, data_dir: Path) -> list[str]:
        return [
            "--controller",
            f"127.0.0.1:{self.ops}",
            "--tls-dir",
            str(self.pki),
            "--token-file",
            str(data_dir / "admin.token"),
        ]


def tls_agent_argv(tls: TlsController, data_dir: Path, host: str, address: str, *extra: str) -> list[str]:
    """An agent on mutual TLS with its issued certificate, quick to retry."""
    return [
        str(BIN / "switchman-agent"),
        "--tls-dir",
        str(tls.pki / "agents" / host),
        "--controller",
        f"127.0.0.1:{tls.port}",
        "--listen",
        f"{address}:{free_port(address)}",
        "--data-dir",
        str(data_dir),
        "--host-id",
        host,
        "--interval",
        "500ms",
        "--metrics-listen",
        "",
        "--backoff-cap",
        "500ms",
        *extra,
    ]


def start_tls_controller(tmp_path: Path, daemons: list[Daemon], agents: tuple[str, ...], *flags: str) -> TlsController:
    """`switchman certs init` + `certs issue agent NAME` for each agent, then the controller."""
    pki = tmp_path / "pki"
    cli = str(BIN / "switchman")
    subprocess.run([cli, "certs", "init", "--dir", str(pki)], check=True, capture_output=True, timeout=60)
    for name in agents:
        subprocess.run(
            [cli, "certs", "issue", "--dir", str(pki), "agent", name], check=True, capture_output=True, timeout=60
        )
    port, ops = free_port(), free_port()
    d = Daemon(
        [
            str(BIN / "switchman-controller"),
            "--tls-dir",
            str(pki / "controller"),
            "--listen",
            f"127.0.0.1:{port}",
            "--ops-listen",
            f"127.0.0.1:{ops}",
            "--data-dir",
            str(tmp_path / "c"),
            "--metrics-listen",
            "",
            "--http-listen",
            "127.0.0.1:0",
            *flags,
        ],
        tmp_path / "c.log",
    )
    daemons.append(d.start())
    wait_until((tmp_path / "c" / "admin.token").exists, 15, what="controller start")
    return TlsController(pki, port, ops, d)


def switchman(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The CLI, as an operator runs it."""
    return subprocess.run([str(BIN / "switchman"), *argv], capture_output=True, text=True, timeout=timeout)


def body_of(address: str, port: int) -> str:
    """One GET / on a front port; "" when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://{address}:{port}/", timeout=2) as r:
            return str(r.read().decode())
    except OSError:
        return ""
