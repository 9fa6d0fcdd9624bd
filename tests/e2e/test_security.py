"""mTLS between agents and controller, tokens for the CLI, with real processes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path

import grpc
import pytest
from switchman.proto.channel import CONTROLLER_IDENTITY, TlsMaterial, create_channel
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc

from tests.helpers import BIN, Daemon, free_port, start_tls_controller, wait_until

pytestmark = pytest.mark.slow


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "switchman"), *argv], capture_output=True, text=True, timeout=60)


def test_fleet_on_mtls_and_tokens(tmp_path: Path, daemons: list[Daemon]) -> None:
    tls = start_tls_controller(tmp_path, daemons, ("web-1", "web-2"))
    pki, port, ops = tls.pki, tls.port, tls.ops

    def agent(host: str, certs: str, address: str) -> Daemon:
        d = Daemon(
            [
                str(BIN / "switchman-agent"),
                "--tls-dir",
                str(pki / "agents" / certs),
                "--controller",
                f"127.0.0.1:{port}",
                "--listen",
                f"{address}:0",
                "--data-dir",
                str(tmp_path / host),
                "--host-id",
                host,
                "--interval",
                "300ms",
                "--metrics-listen",
                "",
                "--backoff-cap",
                "500ms",
            ],
            tmp_path / f"{host}.log",
        )
        daemons.append(d.start())
        return d

    agent("web-1", "web-1", "127.0.0.2")
    impostor = agent("web-2", "web-1", "127.0.0.3")  # web-1's certificate, claiming to be web-2
    cli = tls.cli_args(tmp_path / "c")

    def hosts() -> list[dict[str, object]]:
        r = run(*cli, "-o", "json", "hosts")
        return json.loads(r.stdout) if r.returncode == 0 else []

    [web1] = wait_until(hosts, 20, what="web-1 registered over mTLS")
    assert web1["host_id"] == "web-1" and web1["state"] == "up" and web1["cert_days_left"] in (364, 365)
    wait_until(lambda: "may not act as host 'web-2'" in impostor.log(), 15, what="the impostor refused")
    assert [h["host_id"] for h in hosts()] == ["web-1"]

    # the CLI: a token is required; a viewer may not do an admin's work
    r = run("--controller", f"127.0.0.1:{ops}", "--tls-dir", str(pki), "status")
    assert r.returncode == 3 and "not authenticated" in r.stderr
    r = run(*cli, "-o", "json", "token", "create", "--name", "ro", "--role", "viewer")
    viewer = json.loads(r.stdout)["token"]
    view = ["--controller", f"127.0.0.1:{ops}", "--tls-dir", str(pki), "--token", viewer]
    assert run(*view, "status").returncode == 0
    r = run(*view, "token", "create", "--name", "x", "--role", "admin")
    assert r.returncode == 1 and "permission denied" in r.stderr
    # the agent port wants a client certificate: a CLI with only ca.pem cannot use it
    r = run("--controller", f"127.0.0.1:{port}", "--tls-dir", str(pki), "--token", viewer, "--timeout", "3", "status")
    assert r.returncode == 3
    r = run("--controller", f"127.0.0.1:{ops}", "--insecure", "--token", viewer, "--timeout", "3", "status")
    assert r.returncode == 3  # plaintext to a TLS port never gets through

    # the audit log names who did what; editing a row in SQLite is detected and named
    r = run(*cli, "-o", "json", "audit", "list")
    actions = [(e["actor"], e["action"], e["target"], e["result"].split(":")[0]) for e in json.loads(r.stdout)]
    assert actions == [("admin", "CreateToken", "ro", "ok"), ("ro", "CreateToken", "x", "denied")]
    assert run(*cli, "audit", "verify").returncode == 0
    conn = sqlite3.connect(tmp_path / "c" / "controller.db", isolation_level=None)
    conn.execute("UPDATE audit SET result = 'ok' WHERE id = 2")
    conn.close()
    r = run(*cli, "audit", "verify")
    assert r.returncode == 1 and "entry 2 was edited" in r.stdout


def test_agent_answers_only_the_controller_certificate(tmp_path: Path, daemons: list[Daemon]) -> None:
    pki = tmp_path / "pki"
    assert run("certs", "init", "--dir", str(pki)).returncode == 0
    assert run("certs", "issue", "--dir", str(pki), "agent", "web-1").returncode == 0
    agent_port = free_port("127.0.0.2")
    d = Daemon(
        [
            str(BIN / "switchman-agent"),
            "--tls-dir",
            str(pki / "agents" / "web-1"),
            "--controller",
            f"127.0.0.1:{free_port()}",
            "--listen",
            f"127.0.0.2:{agent_port}",
            "--data-dir",
            str(tmp_path / "a"),
            "--host-id",
            "web-1",
            "--metrics-listen",
            "",
        ],
        tmp_path / "a.log",
    )
    daemons.append(d.start())
    wait_until(lambda: "serving on" in d.log(), 15, what="agent start")

    async def call(tls: TlsMaterial) -> grpc.StatusCode:
        channel = create_channel(f"127.0.0.2:{agent_port}", tls, server_name="web-1")
        try:
            await agent_pb2_grpc.AgentStub(channel).GetInfo(agent_pb2.GetInfoRequest(), timeout=5)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        finally:
            await channel.close(None)

    assert asyncio.run(call(TlsMaterial.from_dir(pki / "controller"))) is grpc.StatusCode.OK
    assert asyncio.run(call(TlsMaterial.from_dir(pki / "agents" / "web-1"))) is grpc.StatusCode.PERMISSION_DENIED
    assert asyncio.run(call(TlsMaterial.from_dir(pki, need_identity=False))) is grpc.StatusCode.UNAVAILABLE
    assert CONTROLLER_IDENTITY == "switchman-controller"
