"""CLI errors and exit codes (SPEC 5): 0 success, 1 the operation failed,
2 usage error, 3 cannot reach or authenticate to the controller."""

from __future__ import annotations

import grpc

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


def from_rpc(exc: grpc.RpcError, target: str) -> CliError:
    """The one place gRPC status codes become exit codes."""
    code = exc.code()
    details = exc.details() or code.name
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return CliError(f"cannot reach the controller at {target}: {details}", EXIT_UNREACHABLE)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return CliError(f"not authenticated: {details}", EXIT_UNREACHABLE)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return CliError(details, EXIT_USAGE)
    if code is grpc.StatusCode.PERMISSION_DENIED:
        return CliError(f"permission denied: {details}", EXIT_FAILED)
    return CliError(details, EXIT_FAILED)
