"""Certificates: the agents' expiry (shown by `switchman hosts`), and a watch
that logs certificates that have expired or expire soon."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography import x509
from switchman.proto.certinfo import SOON, Finding, check_files, issue_command, pki_dir_of, utc


def cert_not_after_ms(pem: bytes | None) -> int:
    """The certificate's notAfter as Unix milliseconds; 0 when there is none."""
    if not pem:
        return 0
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return 0
    return int(cert.not_valid_after_utc.timestamp() * 1000)


def days_left(not_after_ms: int, now_ms: int) -> int:
    """Whole days until expiry (0 once expired); -1 when unknown."""
    if not not_after_ms:
        return -1
    return max(0, (not_after_ms - now_ms) // 86_400_000)


class CertWatch:
    """The certificates that have expired or expire soon, each reported once
    per state (and once a day while it is expiring).

    It watches the controller's own ``cert.pem`` and ``ca.pem`` in ``tls_dir``
    and each agent's certificate as presented at its last Register (gRPC's
    Python API gives nothing about a handshake that failed, so an agent whose
    certificate expired is named from what it showed before). ``check()``
    returns the new findings; the caller logs them.
    """

    def __init__(self, tls_dir: Path | None, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._tls_dir = tls_dir
        self._now = now
        self._reported: set[str] = set()

    def check(self, hosts: Iterable[tuple[str, int]]) -> list[Finding]:
        """``hosts`` are (host id, certificate notAfter in Unix ms, 0 when unknown). Reads files: call it off the loop."""
        now = self._now()
        found = [] if self._tls_dir is None else check_files(self._tls_dir, "controller", now)
        pki = pki_dir_of(self._tls_dir)
        for host_id, not_after_ms in hosts:
            if not not_after_ms:
                continue
            not_after = dt.datetime.fromtimestamp(not_after_ms / 1000, dt.UTC)
            fix = f"issue a new one with `{issue_command('agent', host_id, pki)}`, put it in the agent's tls_dir and restart it"
            if not_after <= now:
                found.append(
                    Finding(
                        logging.ERROR,
                        f"agent {host_id}'s certificate (CN {host_id}) expired on {utc(not_after)}; the agent "
                        f"cannot connect until it has a new one: {fix}",
                    )
                )
            elif not_after - now < SOON:
                found.append(
                    Finding(
                        logging.WARNING,
                        f"agent {host_id}'s certificate (CN {host_id}) expires on {utc(not_after)} "
                        f"(in {(not_after - now).days} day(s)): {fix}",
                    )
                )
        new = [f for f in found if f.message not in self._reported]
        self._reported = {f.message for f in found}
        return new
