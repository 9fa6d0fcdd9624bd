"""Connection settings (flags, environment, config file) and the Ops stub."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from switchman.cli.errors import EXIT_USAGE, CliError, explain_unreachable, from_rpc, not_the_ops_api
from switchman.proto.channel import CONTROLLER_IDENTITY, TlsError, TlsMaterial, create_blocking_channel, is_loopback
from switchman.proto.v1 import ops_pb2_grpc

DEFAULT_CONTROLLER = "127.0.0.1:7000"
CONFIG_PATH = Path("~/.config/switchman/config.toml")
T = TypeVar("T")


@dataclass
class Settings:
    controller: str = DEFAULT_CONTROLLER
    token: str = ""
    tls_dir: str = ""
    insecure: bool = False
    timeout: float = 10.0


def load_settings(args: Any) -> Settings:
    """Flags win over the environment, which wins over the config file."""
    file: dict[str, Any] = {}
    path = Path(os.environ.get("SWITCHMAN_CONFIG", str(CONFIG_PATH))).expanduser()
    if path.exists():
        try:
            file = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CliError(f"{path}: {exc}", EXIT_USAGE) from None
    s = Settings()
    s.controller = args.controller or os.environ.get("SWITCHMAN_CONTROLLER") or file.get("controller") or s.controller
    token_file = args.token_file or file.get("token_file") or ""
    s.token = args.token or os.environ.get("SWITCHMAN_TOKEN") or ""
    if not s.token and token_file:
        try:
            s.token = Path(token_file).expanduser().read_text().strip()
        except OSError as exc:
            raise CliError(f"--token-file {token_file}: {exc.strerror or exc}", EXIT_USAGE) from None
    s.token = s.token or str(file.get("token", ""))
    s.tls_dir = args.tls_dir or os.environ.get("SWITCHMAN_TLS_DIR") or str(file.get("tls_dir", ""))
    s.insecure = bool(args.insecure or file.get("insecure", False))
    s.timeout = float(args.timeout or file.get("timeout", s.timeout))
    return s


class Client:
    """A blocking Ops client that turns RPC errors into :class:`CliError`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        tls = None
        if not settings.insecure:
            if not settings.tls_dir:
                raise CliError("no TLS material: give --tls-dir DIR (with ca.pem) or --insecure", EXIT_USAGE)
            try:
                tls = TlsMaterial.from_dir(settings.tls_dir, need_identity=False)
            except TlsError as exc:
                raise CliError(str(exc), EXIT_USAGE) from None
        elif not is_loopback(settings.controller):
            raise CliError(
                f"--insecure is allowed only for a loopback controller, not {settings.controller}", EXIT_USAGE
            )
        self.channel = create_blocking_channel(settings.controller, tls, server_name=CONTROLLER_IDENTITY)
        self.ops = ops_pb2_grpc.OpsStub(self.channel)
        self.metadata = (("authorization", f"Bearer {settings.token}"),) if settings.token else ()

    def call(self, method: Callable[..., T], request: Any, timeout: float | None = None) -> T:
        try:
            return method(request, timeout=timeout or self.settings.timeout, metadata=self.metadata)
        except grpc.RpcError as exc:
            raise self._error(exc) from None

    def stream(self, method: Callable[..., Iterator[T]], request: Any) -> Iterator[T]:
        """A server stream, without a deadline (it ends when the server ends it)."""
        try:
            yield from method(request, metadata=self.metadata)
        except grpc.RpcError as exc:
            raise self._error(exc) from None

    def _error(self, exc: grpc.RpcError) -> CliError:
        """gRPC's error, or what a probe of the address says is wrong (TLS mistakes, wrong port)."""
        s = self.settings
        if exc.code() is grpc.StatusCode.UNAVAILABLE:
            from switchman.proto.tlsdiag import probe

            try:
                ca = None if s.insecure else (Path(s.tls_dir) / "ca.pem").read_bytes()
                found = probe(s.controller, ca=ca, timeout=min(3.0, s.timeout))
            except (OSError, ValueError):  # ssl.SSLError is an OSError: a ca.pem gRPC already used
                return from_rpc(exc, s.controller)
            return from_rpc(exc, s.controller, explain_unreachable(found, s.tls_dir, s.insecure))
        if exc.code() is grpc.StatusCode.UNIMPLEMENTED and self._answers_as_agent():
            return not_the_ops_api(s.controller)
        return from_rpc(exc, s.controller)

    def _answers_as_agent(self) -> bool:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        check = health_pb2.HealthCheckRequest(service="switchman.v1.Agent")
        try:
            reply = health_pb2_grpc.HealthStub(self.channel).Check(check, timeout=min(3.0, self.settings.timeout))
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def close(self) -> None:
        self.channel.close()
