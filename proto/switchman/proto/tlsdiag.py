"""Why a gRPC connection failed at the TLS layer, found by probing the peer.

gRPC reports most TLS mistakes as ``UNAVAILABLE: Socket closed``. After such
a failure, :func:`probe` opens one or two plain TLS connections to the same
address with Python's :mod:`ssl` (OpenSSL) and records what the peer did:
whether it speaks TLS at all, which certificate it presented, whether that
certificate verifies against our CA, and whether the peer went on to speak
HTTP/2 (a gRPC server sends its SETTINGS frame at once) or closed the
connection after the handshake, which is how a gRPC server refuses a client
certificate (or its absence). The callers turn a :class:`Probe` into words
for their own operators (the CLI in ``switchman.cli.errors``, the agent in
``switchman.agent.linkdiag``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.proto.certinfo import CertError, CertInfo, from_der
from switchman.proto.channel import split_host_port

if TYPE_CHECKING:  # loaded only once something accepts the connection (OpenSSL costs the agent 4.5 MiB)
    import ssl


@dataclass(frozen=True)
class Probe:
    """What the peer at ``address`` did when we opened a TLS connection."""

    address: str
    reachable: bool  # a TCP connection was accepted
    speaks_tls: bool  # it completed a TLS handshake
    peer: CertInfo | None = None  # the certificate it presented
    verify_error: str = ""  # OpenSSL's reason the peer's certificate failed against our CA; "" when it passed
    closed_after_handshake: bool = False  # it hung up instead of speaking HTTP/2: it refused our client certificate
    error: str = ""  # the socket or TLS error, when there was one


def probe(
    address: str,
    *,
    ca: bytes | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    timeout: float = 3.0,
) -> Probe:
    """Probe ``address`` (``HOST:PORT``) with TLS, presenting ``cert_file`` when given.

    Blocking (at most a few ``timeout`` periods); run it in a thread from async code.
    Never raises for what the peer does; bad local files raise :class:`OSError` or
    :class:`ssl.SSLError` from loading them.
    """
    host, port = split_host_port(address)
    refused = _unreachable(host, port, timeout)
    if refused is not None:  # nothing listens: no TLS needed to tell
        return Probe(address, reachable=False, speaks_tls=False, error=refused)
    verify_error = ""
    if ca is not None:
        verified = _handshake(host, port, _context(ca, cert_file, key_file), timeout)
        if not verified.verify_error:
            return _probe(address, verified)
        verify_error = verified.verify_error
    # unverified, to see what the peer presents (and whether it talks TLS at all)
    return _probe(address, _handshake(host, port, _context(None, cert_file, key_file), timeout), verify_error)


def _unreachable(host: str, port: int, timeout: float) -> str | None:
    """Why no TCP connection to ``host:port`` is accepted; None when one is."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _context(ca: bytes | None, cert_file: Path | None, key_file: Path | None) -> ssl.SSLContext:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # names are the callers' business: they compare peer.subject_cn
    if ca is None:
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
    if cert_file is not None:
        ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["h2"])
    return ctx


@dataclass(frozen=True)
class _Outcome:
    reachable: bool
    speaks_tls: bool
    peer_der: bytes | None = None
    closed: bool = False
    verify_error: str = ""
    error: str = ""


def _handshake(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> _Outcome:
    import ssl

    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return _Outcome(reachable=False, speaks_tls=False, error=exc.strerror or str(exc))
    with raw:
        try:
            tls = ctx.wrap_socket(raw)
        except ssl.SSLCertVerificationError as exc:
            reason = str(exc.verify_message or exc.reason or exc)
            return _Outcome(reachable=True, speaks_tls=True, verify_error=reason, error=str(exc))
        except (ssl.SSLError, OSError) as exc:  # plaintext peers answer the ClientHello with garbage or hang up
            return _Outcome(reachable=True, speaks_tls=False, error=str(exc))
        with tls:
            der = tls.getpeercert(binary_form=True)
            try:
                first = tls.recv(64)
            except TimeoutError:
                return _Outcome(reachable=True, speaks_tls=True, peer_der=der)
            except (ssl.SSLError, OSError) as exc:
                return _Outcome(reachable=True, speaks_tls=True, peer_der=der, closed=True, error=str(exc))
            return _Outcome(reachable=True, speaks_tls=True, peer_der=der, closed=not first)


def _probe(address: str, outcome: _Outcome, verify_error: str = "") -> Probe:
    peer = None
    if outcome.peer_der:
        try:
            peer = from_der(outcome.peer_der)
        except CertError:
            peer = None
    return Probe(
        address,
        reachable=outcome.reachable,
        speaks_tls=outcome.speaks_tls,
        peer=peer,
        verify_error=verify_error,
        closed_after_handshake=outcome.closed,
        error=outcome.error,
    )
