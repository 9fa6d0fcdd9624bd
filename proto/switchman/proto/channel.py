"""The one place where gRPC channels and servers are created.

Every call site goes through :func:`create_server`, :func:`listen` and
:func:`create_channel` with an optional :class:`TlsMaterial`; with material
the connection is mutual TLS, without it the connection is plaintext, which
is only allowed on loopback (see :func:`check_insecure_allowed`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# grpc ships no type information; handlers annotate their context with this.
ServicerContext: TypeAlias = Any
CONTROLLER_IDENTITY = "switchman-controller"


class TlsError(ValueError):
    """TLS material that is missing or unreadable."""


@dataclass(frozen=True)
class TlsMaterial:
    """PEM bytes: the CA to trust, and this process' own certificate and key."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_dir(cls, directory: str | Path, *, need_identity: bool = True) -> TlsMaterial:
        """Read ``ca.pem`` and (when ``need_identity``) ``cert.pem`` / ``key.pem``.

        :raises TlsError: naming the file that is missing or unreadable.
        """
        d = Path(directory)

        def read(name: str) -> bytes:
            try:
                return (d / name).read_bytes()
            except OSError as exc:
                raise TlsError(f"TLS: cannot read {d / name}: {exc.strerror or exc}") from exc

        ca = read("ca.pem")
        if not need_identity:
            return cls(ca=ca)
        return cls(ca=ca, cert=read("cert.pem"), key=read("key.pem"))


def _common_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
    ]


def create_server(
    *,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> grpc.aio.Server:
    """A ``grpc.aio`` server that rejects messages over ``max_message_bytes``
    with ``RESOURCE_EXHAUSTED``."""
    options = [*_common_options(max_message_bytes), ("grpc.http2.min_ping_interval_without_data_ms", 5_000)]
    return grpc.aio.server(interceptors=list(interceptors), options=options)


def listen(server: grpc.aio.Server, address: str, tls: TlsMaterial | None, *, require_client_cert: bool = True) -> int:
    """Bind ``address`` (``host:port``, port 0 for any) and return the bound port.

    :raises OSError: ``cannot listen on ADDRESS`` when the address is taken or not local.
    """
    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            if tls.cert is None or tls.key is None:
                raise TlsError("TLS: a server needs cert.pem and key.pem")
            creds = grpc.ssl_server_credentials(
                [(tls.key, tls.cert)], root_certificates=tls.ca, require_client_auth=require_client_cert
            )
            port = server.add_secure_port(address, creds)
    except RuntimeError as exc:  # grpc reports a failed bind this way
        raise OSError(f"cannot listen on {address}: address in use or not available ({exc})") from None
    if port == 0:
        raise OSError(f"cannot listen on {address}: address in use or not available")
    return int(port)


def _channel_args(
    tls: TlsMaterial | None, server_name: str | None, max_message_bytes: int
) -> tuple[list[tuple[str, int | str]], Any]:
    options: list[tuple[str, int | str]] = list(_common_options(max_message_bytes))
    if tls is None:
        return options, None
    creds = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key, certificate_chain=tls.cert)
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    return options, creds


def create_channel(
    target: str,
    tls: TlsMaterial | None,
    *,
    server_name: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    max_reconnect_backoff_ms: int = 0,
) -> grpc.aio.Channel:
    """A ``grpc.aio`` channel to ``target``; mutual TLS when ``tls`` is given.

    ``server_name`` overrides the name checked against the server's
    certificate (agents check the controller's fixed identity).
    ``max_reconnect_backoff_ms`` caps gRPC's own reconnect backoff, for a
    caller that paces its calls itself (the agent's circuit breaker): then a
    call made after the peer returns is not held up by the channel's longer
    backoff. Create it inside the running event loop.
    """
    options, creds = _channel_args(tls, server_name, max_message_bytes)
    if max_reconnect_backoff_ms:
        options += [
            ("grpc.initial_reconnect_backoff_ms", min(1000, max_reconnect_backoff_ms)),
            ("grpc.min_reconnect_backoff_ms", min(1000, max_reconnect_backoff_ms)),
            ("grpc.max_reconnect_backoff_ms", max_reconnect_backoff_ms),
        ]
    if creds is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, creds, options=options)


def create_blocking_channel(
    target: str,
    tls: TlsMaterial | None,
    *,
    server_name: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.Channel:
    """The synchronous twin of :func:`create_channel`, for the CLI and tools."""
    options, creds = _channel_args(tls, server_name, max_message_bytes)
    if creds is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, creds, options=options)


def split_host_port(address: str) -> tuple[str, int]:
    """``"127.0.0.2:7000"`` -> ``("127.0.0.2", 7000)``; ``[::1]:80`` works too.

    :raises ValueError: when the address has no numeric port.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"address {address!r}: expected HOST:PORT")
    host = host.strip("[]")
    return host, int(port)


def is_loopback(address: str) -> bool:
    """True when the host part of ``address`` is a loopback address or ``localhost``."""
    host, _ = split_host_port(address)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(ai[4][0]).is_loopback for ai in socket.getaddrinfo(host, None))
        except OSError:
            return False


def check_insecure_allowed(addresses: Sequence[str]) -> None:
    """``--insecure`` is allowed only when every address is loopback.

    :raises ValueError: naming the first address that is not.
    """
    for addr in addresses:
        if addr and not is_loopback(addr):
            raise ValueError(f"--insecure is allowed only on loopback addresses, and {addr} is not")


def peer_identity(context: ServicerContext) -> str | None:
    """The common name of the client certificate the caller presented, or
    None when the connection is plaintext or carried no certificate."""
    auth = context.auth_context() or {}
    names = auth.get("x509_common_name") or []
    return names[0].decode() if names else None


def peer_certificate(context: ServicerContext) -> bytes | None:
    """The caller's certificate (PEM) when it presented one."""
    pem = (context.auth_context() or {}).get("x509_pem_cert") or []
    return bytes(pem[0]) if pem else None


def add_health(server: grpc.aio.Server) -> HealthServicer:
    """Serve ``grpc.health.v1.Health`` on ``server`` (overall status starts NOT_SERVING)."""
    servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    return servicer


async def set_serving(health: HealthServicer, serving: bool, services: Sequence[str] = ()) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", *services):
        await health.set(name, status)
