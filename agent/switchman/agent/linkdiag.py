"""Why the agent cannot talk to the controller, in one line for its log.

gRPC says ``Socket closed`` for most TLS mistakes. :class:`LinkDiagnosis`
looks at this agent's own certificate and CA (their dates) and, when those are
fine, probes the controller's address (:func:`switchman.proto.tlsdiag.probe`)
to say whose certificate is wrong and how to fix it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.proto.certinfo import CertError, Finding, check_files, issue_command, pki_dir_of, read_cert
from switchman.proto.channel import CONTROLLER_IDENTITY

if TYPE_CHECKING:  # tlsdiag loads Python's TLS: only once a connection failed
    from switchman.proto.tlsdiag import Probe

Prober = Callable[[], "Probe"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LinkDiagnosis:
    """Explains failed connections to ``controller``; ``tls_dir`` is None with ``--insecure``."""

    def __init__(
        self,
        controller: str,
        tls_dir: Path | None,
        *,
        host_id: str = "HOST",
        now: Callable[[], dt.datetime] = _now,
        prober: Prober | None = None,
        probe_timeout: float = 2.0,
        reprobe_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._controller = controller
        self._tls_dir = tls_dir
        self._host_id = host_id
        self._now = now
        self._prober = prober or self._probe
        self._probe_timeout = probe_timeout
        self._reprobe_after = reprobe_after
        self._clock = clock
        self._cached: tuple[str, float, str] | None = None  # (gRPC message, when, explanation)

    def check_certificates(self) -> list[Finding]:
        """This agent's certificate and CA: expired, not yet valid, or expiring soon (start-up report)."""
        return [] if self._tls_dir is None else check_files(self._tls_dir, "agent", self._now())

    async def explain(self, grpc_message: str) -> str:
        """One line saying what is likely wrong, or ``""`` when nothing was found.

        Local certificate problems are reported without touching the network;
        otherwise the controller is probed in a thread, at most once per
        ``reprobe_after`` seconds for the same gRPC message.
        """
        findings = await asyncio.to_thread(self.check_certificates)
        local = [f.message for f in findings if f.level >= logging.ERROR]
        if local:
            return "; ".join(local)
        now = self._clock()
        if self._cached and self._cached[0] == grpc_message and now - self._cached[1] < self._reprobe_after:
            return self._cached[2]
        try:
            found = await asyncio.wait_for(asyncio.to_thread(self._prober), 3 * self._probe_timeout + 1)
            text = self.describe(found)
        except TimeoutError:
            text = ""
        except (OSError, ValueError) as exc:  # the socket's errors are the probe's findings: these are local files
            text = f"this agent's TLS files in {self._tls_dir} cannot be loaded: {exc}"
        self._cached = (grpc_message, now, text)
        return text

    def _probe(self) -> Probe:
        from switchman.proto.tlsdiag import probe

        if self._tls_dir is None:
            return probe(self._controller, timeout=self._probe_timeout)
        d = self._tls_dir
        return probe(
            self._controller,
            ca=(d / "ca.pem").read_bytes(),
            cert_file=d / "cert.pem",
            key_file=d / "key.pem",
            timeout=self._probe_timeout,
        )

    def describe(self, p: Probe) -> str:
        """The probe's findings in words, from this agent's point of view."""
        addr, d = p.address, self._tls_dir
        if not p.reachable:
            return ""  # gRPC's own message (connection refused, no route) says it
        if d is None:
            if p.speaks_tls:
                return (
                    f"the controller at {addr} speaks TLS and this agent runs with --insecure: give the agent "
                    f"--tls-dir with its certificate (`{issue_command('agent', self._host_id, None)}`)"
                )
            return ""
        if not p.speaks_tls:
            return (
                f"{addr} does not speak TLS (a controller started with --insecure?): start the controller with "
                f"--tls-dir, or run this agent with --insecure (loopback only)"
            )
        if p.verify_error:
            return self._bad_server_cert(p)
        if p.peer is not None and p.peer.subject_cn != CONTROLLER_IDENTITY:
            return (
                f"{addr} presented the certificate of {p.peer.subject_cn!r}, not {CONTROLLER_IDENTITY!r}: "
                f"--controller must be the controller's listen address (its agent port)"
            )
        if p.closed_after_handshake:
            return self._refused(addr)
        return ""

    def _bad_server_cert(self, p: Probe) -> str:
        addr, d = p.address, self._tls_dir
        peer = p.peer
        seen = f" {peer.describe()}" if peer else ""
        if peer is not None and peer.problem(self._now()):
            return (
                f"the controller's certificate at {addr}{seen} {peer.problem(self._now())}: issue a new one with "
                f"`{issue_command('controller', CONTROLLER_IDENTITY, pki_dir_of(d))}` and restart the controller"
            )
        return (
            f"the certificate of {addr}{seen} is not signed by the CA in {d / 'ca.pem' if d else 'ca.pem'} "
            f"({p.verify_error}): this agent's tls_dir must hold the same fleet's ca.pem as the controller's"
        )

    def _refused(self, addr: str) -> str:
        d = self._tls_dir
        assert d is not None
        try:
            mine = read_cert(d / "cert.pem")
        except CertError as exc:
            return f"the controller at {addr} refused this agent's certificate: {exc}"
        return (
            f"the controller at {addr} closed the connection after the TLS handshake: it refused this agent's "
            f"certificate {mine.describe()}, issued by {mine.issuer_cn!r}; is it signed by the controller's CA? "
            f"Issue one with `{issue_command('agent', mine.subject_cn, pki_dir_of(d))}`"
        )
