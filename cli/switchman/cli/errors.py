"""CLI errors and exit codes: 0 success, 1 the operation failed, 2 usage
error, 3 cannot reach or authenticate to the controller. Every command module
imports this one, so it imports gRPC only inside the functions that need it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import grpc
    from switchman.proto.tlsdiag import Probe

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CliError(Exception):
    """One clear line for the operator, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CliError):
    """A command line argparse refused; ``prog`` is the (sub)command that
    refused it (``switchman rollout start``), for the hint to its ``--help``."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message, EXIT_USAGE)
        self.prog = prog


def from_rpc(exc: grpc.RpcError, target: str, explanation: str = "") -> CliError:
    """The one place gRPC status codes become exit codes. ``explanation``
    (from :func:`explain_unreachable`) replaces gRPC's words for a connection
    that failed."""
    import grpc

    code = exc.code()
    details = exc.details() or code.name
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        if explanation:
            return CliError(explanation, EXIT_UNREACHABLE)
        return CliError(f"cannot reach the controller at {target}: {details}", EXIT_UNREACHABLE)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return CliError(f"not authenticated: {details}", EXIT_UNREACHABLE)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return CliError(details, EXIT_USAGE)
    if code is grpc.StatusCode.PERMISSION_DENIED:
        return CliError(f"permission denied: {details}", EXIT_FAILED)
    return CliError(details, EXIT_FAILED)


OPS_PORT = "the Ops port is the controller's ops_listen, by default its agent port + 1"


def not_the_ops_api(target: str) -> CliError:
    """``target`` serves the Agent service (an agent on plaintext gRPC), not Ops."""
    return CliError(
        f"{target} answered as a switchman agent, not the Ops API: point --controller at the controller "
        f"(with --insecure its listen address; with TLS {OPS_PORT})",
        EXIT_UNREACHABLE,
    )


def explain_unreachable(p: Probe, tls_dir: str, insecure: bool, now: dt.datetime | None = None) -> str:
    """What a TLS probe of the controller's address says is wrong with how the
    CLI reaches it, in one line with what to do; ``""`` when it found nothing."""
    from switchman.proto.channel import CONTROLLER_IDENTITY, split_host_port

    addr, peer = p.address, p.peer
    host, port = split_host_port(addr)
    ops = f"{host}:{port + 1}"
    if not p.reachable or (insecure and not p.speaks_tls):
        return ""  # nothing listens (gRPC says so), or plaintext as asked
    if insecure:
        also = f", and use the Ops port ({OPS_PORT}: {ops})" if p.closed_after_handshake else ""
        return f"the controller at {addr} speaks TLS: drop --insecure and pass --tls-dir DIR (with the fleet's ca.pem){also}"
    if not p.speaks_tls:
        return f"{addr} does not speak TLS (a controller started with --insecure?): pass --insecure (loopback only) instead of --tls-dir"
    if p.verify_error:
        seen = f" {peer.describe()}" if peer else ""
        problem = peer.problem(now or dt.datetime.now(dt.UTC)) if peer else ""
        if problem:
            return (
                f"the certificate of {addr}{seen} {problem}: the controller needs a new one "
                f"(`switchman certs issue --dir PKI_DIR controller {CONTROLLER_IDENTITY}`, then restart it)"
            )
        return (
            f"the certificate of {addr}{seen} is not signed by the CA in {Path(tls_dir) / 'ca.pem'} "
            f"({p.verify_error}): pass the --tls-dir of the fleet this controller belongs to"
        )
    if peer is not None and peer.subject_cn != CONTROLLER_IDENTITY:  # signed by the fleet's CA: an agent
        return f"{addr} answered as the switchman agent {peer.subject_cn!r}, not the Ops API: {OPS_PORT}"
    if p.closed_after_handshake:
        return f"{addr} is the controller's agent port (it wants a client certificate), not the Ops API: {OPS_PORT} ({ops})"
    return ""
