"""What a certificate says about itself: subject, issuer, validity dates.

Read with the standard library only (a small DER walk over the fields of
RFC 5280's ``TBSCertificate`` that diagnosis needs): the agent has a memory
budget and ``cryptography`` would cost it about 12 MB of resident memory. No
signature is checked here; :mod:`switchman.proto.tlsdiag` leaves that to
OpenSSL.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import logging
from dataclasses import dataclass
from pathlib import Path

_CN_OID = bytes([0x55, 0x04, 0x03])  # 2.5.4.3
_SEQUENCE, _SET, _OID, _UTC_TIME, _GENERALIZED_TIME, _EXPLICIT_0 = 0x30, 0x31, 0x06, 0x17, 0x18, 0xA0
_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x14: "latin-1", 0x16: "ascii", 0x1E: "utf-16-be"}
SOON = dt.timedelta(days=30)


class CertError(ValueError):
    """A file or value that is not a readable X.509 certificate."""


class Validity(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but for less than :data:`SOON`
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"


def utc(when: dt.datetime) -> str:
    """``2026-11-23 06:33:37 UTC``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class CertInfo:
    subject_cn: str
    issuer_cn: str
    not_before: dt.datetime
    not_after: dt.datetime
    path: Path | None = None

    def validity(self, now: dt.datetime) -> Validity:
        if now < self.not_before:
            return Validity.NOT_YET_VALID
        if now >= self.not_after:
            return Validity.EXPIRED
        return Validity.EXPIRING if self.not_after - now < SOON else Validity.VALID

    def describe(self) -> str:
        """``/etc/switchman/tls/cert.pem (CN web-1, valid 2026-01-01 ... UTC to 2027-01-01 ... UTC)``."""
        where = f"{self.path} " if self.path else ""
        return f"{where}(CN {self.subject_cn}, valid {utc(self.not_before)} to {utc(self.not_after)})"

    def problem(self, now: dt.datetime) -> str:
        """What is wrong with the dates, or ``""`` when the certificate is valid now."""
        state = self.validity(now)
        if state is Validity.EXPIRED:
            return f"expired on {utc(self.not_after)}"
        if state is Validity.NOT_YET_VALID:
            return f"is not valid before {utc(self.not_before)} (is this host's clock right?)"
        return ""


def pki_dir_of(tls_dir: Path | None) -> Path | None:
    """The PKI directory a ``tls_dir`` was copied from, when it has the layout
    ``switchman certs`` writes (``D/agents/NAME``, ``D/controller``)."""
    if tls_dir is None:
        return None
    if tls_dir.parent.name == "agents":
        return tls_dir.parent.parent
    if tls_dir.name == "controller":
        return tls_dir.parent
    return None


def issue_command(kind: str, name: str, pki: Path | None) -> str:
    """The ``switchman certs issue`` line that makes a new certificate for ``name``
    (``PKI_DIR`` stands for a directory that is not known)."""
    return f"switchman certs issue --dir {pki or 'PKI_DIR'} {kind} {name}"


@dataclass(frozen=True)
class Finding:
    """One line about a certificate, at a :mod:`logging` level."""

    level: int
    message: str


def check_files(tls_dir: Path, kind: str, now: dt.datetime) -> list[Finding]:
    """The dates of ``tls_dir``'s ``cert.pem`` (this process' own) and ``ca.pem``.

    ``kind`` is ``agent`` or ``controller`` (for the command that issues a new
    certificate). Expired or not-yet-valid certificates are errors; one that
    expires within :data:`SOON` is a warning; a file that cannot be read is an
    error too (gRPC will fail on it with less to say).
    """
    out: list[Finding] = []
    for name, what in (("cert.pem", f"this {kind}'s certificate"), ("ca.pem", "the CA certificate")):
        try:
            info = read_cert(tls_dir / name)
        except CertError as exc:
            out.append(Finding(logging.ERROR, f"{what}: {exc}"))
            continue
        if name == "ca.pem":
            fix = "make a new CA (`switchman certs init --dir NEW_DIR`) and issue every certificate again"
        else:
            command = issue_command(kind, info.subject_cn, pki_dir_of(tls_dir))
            fix = f"issue a new one with `{command}`, put it in {tls_dir} and restart the {kind}"
        state = info.validity(now)
        if state in (Validity.EXPIRED, Validity.NOT_YET_VALID):
            out.append(Finding(logging.ERROR, f"{what} {info.describe()} {info.problem(now)}: {fix}"))
        elif state is Validity.EXPIRING:
            days = (info.not_after - now).days
            out.append(Finding(logging.WARNING, f"{what} {info.describe()} expires in {days} day(s): {fix}"))
    return out


def read_cert(path: Path) -> CertInfo:
    """The first certificate of a PEM file.

    :raises CertError: naming the file when it cannot be read or parsed.
    """
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CertError(f"cannot read {path}: {exc}") from None
    return from_pem(text, path)


def from_pem(text: str, path: Path | None = None) -> CertInfo:
    """:raises CertError: when ``text`` holds no parseable certificate."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        raise CertError(f"{path or 'PEM'}: no certificate in it")
    try:
        der = base64.b64decode("".join(text[start + len(begin) : stop].split()), validate=True)
    except binascii.Error as exc:
        raise CertError(f"{path or 'PEM'}: {exc}") from None
    return from_der(der, path)


def from_der(der: bytes, path: Path | None = None) -> CertInfo:
    """:raises CertError: when ``der`` is not an X.509 certificate."""
    try:
        tbs = _walk(der, _value(der, 0, _SEQUENCE))[0]
        fields = _walk(der, _value(der, tbs, _SEQUENCE))
        if der[fields[0]] == _EXPLICIT_0:  # the version, absent for v1
            fields = fields[1:]
        issuer, validity, subject = fields[2], fields[3], fields[4]
        not_before, not_after = _walk(der, _value(der, validity, _SEQUENCE))
        return CertInfo(
            subject_cn=_common_name(der, subject),
            issuer_cn=_common_name(der, issuer),
            not_before=_time(der, not_before),
            not_after=_time(der, not_after),
            path=path,
        )
    except (IndexError, ValueError) as exc:
        raise CertError(f"{path or 'certificate'}: not an X.509 certificate ({exc})") from None


# DER -------------------------------------------------------------------------
def _header(der: bytes, pos: int) -> tuple[int, int]:
    """The start and end of the value of the element at ``pos``."""
    length = der[pos + 1]
    start = pos + 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError(f"length of {n} bytes at offset {pos}")
        length = int.from_bytes(der[start : start + n], "big")
        start += n
    if start + length > len(der):
        raise ValueError(f"element at offset {pos} runs past the end")
    return start, start + length


def _value(der: bytes, pos: int, tag: int) -> tuple[int, int]:
    if der[pos] != tag:
        raise ValueError(f"tag {der[pos]:#x} at offset {pos}, expected {tag:#x}")
    return _header(der, pos)


def _common_name(der: bytes, pos: int) -> str:
    for rdn in _walk(der, _value(der, pos, _SEQUENCE)):
        for atv in _walk(der, _value(der, rdn, _SET)):
            oid, value = _walk(der, _value(der, atv, _SEQUENCE))[:2]
            start, end = _value(der, oid, _OID)
            if der[start:end] == _CN_OID:
                vstart, vend = _header(der, value)
                return der[vstart:vend].decode(_STRINGS.get(der[value], "latin-1"))
    return ""


def _time(der: bytes, pos: int) -> dt.datetime:
    start, end = _header(der, pos)
    text = der[start:end].decode("ascii")
    if der[pos] == _UTC_TIME:  # YYMMDDHHMMSSZ, years 1950-2049
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif der[pos] != _GENERALIZED_TIME:
        raise ValueError(f"tag {der[pos]:#x} at offset {pos} is not a time")
    return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.UTC)


def _walk(der: bytes, span: tuple[int, int]) -> list[int]:
    """Offsets of the elements inside the constructed value ``span``."""
    out, pos = [], span[0]
    while pos < span[1]:
        out.append(pos)
        pos = _header(der, pos)[1]
    return out
