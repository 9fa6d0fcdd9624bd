"""TLS mistakes say what to fix: real gRPC servers on port 0, certificates from `switchman certs`' own code."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from switchman.agent.linkdiag import LinkDiagnosis
from switchman.agent.push import ControllerLink, Identity
from switchman.agent.spool import Spool
from switchman.cli.pki import init_ca, issue
from switchman.controller import wiring
from switchman.controller.daemon import assemble
from switchman.controller.metrics import ControllerMetrics
from switchman.proto.channel import (
    CONTROLLER_IDENTITY,
    TlsMaterial,
    add_health,
    create_channel,
    create_server,
    listen,
    set_serving,
)
from switchman.proto.v1 import controller_pb2, controller_pb2_grpc

from tests.helpers import BIN

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    d = tmp_path / "pki"
    init_ca(d, [])
    issue(d, "agent", "web-1", [])
    issue(d, "agent", "old", [], NOW - 400 * DAY)  # expired 35 days ago
    issue(d, "agent", "early", [], NOW + 2 * DAY)  # valid from the day after tomorrow
    issue(d, "agent", "soon", [], NOW - 355 * DAY)  # expires in 10 days
    return d


def other_pki(tmp_path: Path, name: str, controller_from: dt.datetime | None = None) -> Path:
    d = tmp_path / name
    init_ca(d, [])
    if controller_from is not None:
        issue(d, "controller", CONTROLLER_IDENTITY, ["127.0.0.1"], controller_from)
    issue(d, "agent", "web-1", [])
    return d


@dataclass
class Controller:
    core: wiring.Controller
    port: int  # agents, mutual TLS
    ops: int  # the CLI: TLS without client certificates
    token: str


@asynccontextmanager
async def tls_controller(data_dir: Path, cert_dir: Path) -> AsyncIterator[Controller]:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    ref = wiring.ControllerRef()
    server, health = assemble(ref, 4 * 1024 * 1024)
    tls = TlsMaterial.from_dir(cert_dir)
    port = listen(server, "127.0.0.1:0", tls, require_client_cert=True)
    ops = listen(server, "127.0.0.1:0", tls, require_client_cert=False)
    await server.start()
    core = await wiring.build(wiring.settings(data_dir, insecure=False, tls_dir=str(cert_dir)), tls=tls)
    ref.set(core)
    await core.tokens.ensure_admin_file(data_dir / "admin.token", core.clock_ms())
    await set_serving(health, True)
    try:
        token = await asyncio.to_thread((data_dir / "admin.token").read_text)
        yield Controller(core, port, ops, token.strip())
    finally:
        await server.stop(1)
        await core.close()


@asynccontextmanager
async def health_only(tls: TlsMaterial | None, services: tuple[str, ...] = ()) -> AsyncIterator[int]:
    """A gRPC server with just the health service: how an agent's port looks from outside."""
    server = create_server()
    health = add_health(server)
    port = listen(server, "127.0.0.1:0", tls, require_client_cert=True)
    await server.start()
    await set_serving(health, True, services)
    try:
        yield port
    finally:
        await server.stop(1)


async def eventually(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), 60)

    asyncio.run(main())


# the agent ---------------------------------------------------------------------
async def link_warning(tmp_path: Path, controller: str, tls_dir: Path | None, host: str) -> str:
    """Run the agent's link with ``tls_dir``'s certificate until it gives up once; its log line."""
    tls = None if tls_dir is None else TlsMaterial.from_dir(tls_dir)
    channel = create_channel(controller, tls, server_name=CONTROLLER_IDENTITY)
    spool = Spool(tmp_path / f"{host}-spool.db", 1 << 20)
    link = ControllerLink(
        channel,
        spool,
        lambda: Identity(host, host, {}, "127.0.0.2:7100", "t"),
        backoff_cap=0.2,
        explain=LinkDiagnosis(controller, tls_dir, host_id=host).explain,
    )
    link.start()
    try:
        await eventually(lambda: link.stats.pushes_failed > 0, what="a failed call")
        return link.stats.last_error
    finally:
        await link.stop()
        await channel.close(None)
        spool.close()


@pytest.mark.parametrize(
    ("host", "problem"), [("old", "expired on"), ("early", "is not valid before")], ids=["expired", "not-yet-valid"]
)
def test_agent_with_a_certificate_out_of_its_dates_says_which_and_how_to_issue_a_new_one(
    tmp_path: Path, pki: Path, host: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    cert = pki / "agents" / host / "cert.pem"

    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            with caplog.at_level(logging.WARNING, logger="switchman.agent.push"):
                error = await link_warning(tmp_path, f"127.0.0.1:{c.port}", cert.parent, host)
        assert "Socket closed" in error
        [line] = [r.getMessage() for r in caplog.records if r.name == "switchman.agent.push"]
        info = f"{cert} (CN {host}, valid "
        assert info in line and problem in line, line
        assert f"`switchman certs issue --dir {pki} agent {host}`" in line, line

    run(body)


def test_agent_names_the_controllers_expired_certificate(tmp_path: Path) -> None:
    d = other_pki(tmp_path, "pki", controller_from=NOW - 400 * DAY)

    async def body() -> None:
        async with tls_controller(tmp_path / "c", d / "controller") as c:
            error = await link_warning(tmp_path, f"127.0.0.1:{c.port}", d / "agents" / "web-1", "web-1")
        assert f"the controller's certificate at 127.0.0.1:{c.port} (CN switchman-controller, valid " in error
        assert "expired on" in error
        assert f"`switchman certs issue --dir {d} controller switchman-controller`" in error

    run(body)


def test_agent_with_another_fleets_ca_says_the_controller_is_not_signed_by_it(tmp_path: Path, pki: Path) -> None:
    other = other_pki(tmp_path, "other")

    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            error = await link_warning(tmp_path, f"127.0.0.1:{c.port}", other / "agents" / "web-1", "web-1")
        assert f"is not signed by the CA in {other / 'agents' / 'web-1' / 'ca.pem'}" in error

    run(body)


def test_insecure_agent_against_a_tls_controller_is_told_to_use_tls(tmp_path: Path, pki: Path) -> None:
    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            error = await link_warning(tmp_path, f"127.0.0.1:{c.port}", None, "web-1")
        assert "speaks TLS and this agent runs with --insecure" in error

    run(body)


# the CLI -----------------------------------------------------------------------
async def cli(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHMAN_", "GRPC_"))}
    env["SWITCHMAN_CONFIG"] = str(tmp_path / "no-config.toml")
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "switchman"),
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_line(rc: int, stderr: str) -> str:
    """The CLI failed as unreachable with exactly one line (no gRPC C-core log lines)."""
    lines = stderr.splitlines()
    assert rc == 3 and len(lines) == 1, stderr
    assert lines[0].startswith("switchman: ")
    return lines[0]


def test_cli_with_insecure_against_a_tls_controller_is_told_to_pass_tls_dir(tmp_path: Path, pki: Path) -> None:
    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            rc, _, err = await cli(tmp_path, "--controller", f"127.0.0.1:{c.ops}", "--insecure", "status")
        line = one_line(rc, err)
        assert f"the controller at 127.0.0.1:{c.ops} speaks TLS: drop --insecure and pass --tls-dir DIR" in line

    run(body)


def test_cli_pointed_at_the_agent_port_is_told_about_the_ops_port(tmp_path: Path, pki: Path) -> None:
    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            args = ("--controller", f"127.0.0.1:{c.port}", "--tls-dir", str(pki), "--token", c.token, "status")
            rc, _, err = await cli(tmp_path, *args)
        line = one_line(rc, err)
        assert f"127.0.0.1:{c.port} is the controller's agent port" in line
        assert "the Ops port is the controller's ops_listen, by default its agent port + 1" in line

    run(body)


def test_cli_with_another_fleets_ca_says_so_in_one_line(tmp_path: Path, pki: Path) -> None:
    other = other_pki(tmp_path, "other")

    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            args = ("--controller", f"127.0.0.1:{c.ops}", "--tls-dir", str(other), "--token", c.token, "status")
            rc, _, err = await cli(tmp_path, *args)
        line = one_line(rc, err)  # and no "ssl_transport_security.cc ... Handshake failed" before it
        assert f"the certificate of 127.0.0.1:{c.ops} (CN switchman-controller, valid " in line
        assert f"is not signed by the CA in {other / 'ca.pem'}" in line

    run(body)


def test_cli_pointed_at_an_agent_is_told_it_is_not_the_ops_api(tmp_path: Path, pki: Path) -> None:
    async def body() -> None:
        async with health_only(None, ("switchman.v1.Agent",)) as plain:
            rc, _, err = await cli(tmp_path, "--controller", f"127.0.0.1:{plain}", "--insecure", "status")
            line = one_line(rc, err)
            assert f"127.0.0.1:{plain} answered as a switchman agent, not the Ops API" in line
            rc, _, err = await cli(tmp_path, "--controller", f"127.0.0.1:{plain}", "--tls-dir", str(pki), "status")
            assert f"127.0.0.1:{plain} does not speak TLS" in one_line(rc, err)
        async with health_only(TlsMaterial.from_dir(pki / "agents" / "web-1"), ("switchman.v1.Agent",)) as agent:
            rc, _, err = await cli(tmp_path, "--controller", f"127.0.0.1:{agent}", "--tls-dir", str(pki), "status")
            line = one_line(rc, err)
            assert f"127.0.0.1:{agent} answered as the switchman agent 'web-1', not the Ops API" in line

    run(body)


# expiry warnings -----------------------------------------------------------------
def test_hosts_warns_about_certificates_that_expire_soon_and_the_metric_has_their_date(
    tmp_path: Path, pki: Path
) -> None:
    async def body() -> None:
        async with tls_controller(tmp_path / "c", pki / "controller") as c:
            for host in ("soon", "web-1"):
                channel = create_channel(
                    f"127.0.0.1:{c.port}",
                    TlsMaterial.from_dir(pki / "agents" / host),
                    server_name=CONTROLLER_IDENTITY,
                )
                request = controller_pb2.RegisterRequest(host_id=host, hostname=host, advertise="127.0.0.2:7100")
                await controller_pb2_grpc.ControllerStub(channel).Register(request, timeout=10)
                await channel.close(None)
            args = ("--controller", f"127.0.0.1:{c.ops}", "--tls-dir", str(pki), "--token", c.token, "--no-color")
            rc, table, err = await cli(tmp_path, *args, "hosts")
            assert rc == 0, err
            assert "certificates expiring within 30 days: soon " in table
            rc, doc, _ = await cli(tmp_path, *args, "-o", "json", "hosts")
            days = {h["host_id"]: h["cert_days_left"] for h in json.loads(doc)}
            assert days["soon"] in (9, 10) and days["web-1"] in (364, 365)
            exposition = generate_latest(ControllerMetrics(wiring.ControllerRef(c.core)).registry).decode()
        soon = (NOW - 355 * DAY + 365 * DAY).timestamp()
        [value] = [
            float(line.split()[-1])
            for line in exposition.splitlines()
            if line.startswith('switchman_host_cert_expiry_timestamp_seconds{host="soon"}')
        ]
        assert abs(value - soon) < 5

    run(body)
