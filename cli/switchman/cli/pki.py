"""A small PKI for the fleet: a CA, the controller's
certificate and one certificate per agent, with the ``cryptography`` library.

Layout written under DIR::

    DIR/ca.pem  DIR/ca.key
    DIR/controller/{ca,cert,key}.pem
    DIR/agents/NAME/{ca,cert,key}.pem

Keys are ECDSA P-256, written with mode 0600. Every leaf certificate carries
its identity as the common name and as a DNS name (``switchman-controller``
for the controller, the host id for an agent), plus the extra names and IPs
given with ``--san``, and is valid for both server and client authentication.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from switchman.proto.channel import CONTROLLER_IDENTITY
from switchman.proto.validate import check_identifier

CA_DAYS = 3650
LEAF_DAYS = 365


class PkiError(Exception):
    """A PKI operation that cannot be done; the message says why."""


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in dict.fromkeys(names):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def init_ca(directory: Path, sans: list[str], now: dt.datetime | None = None) -> list[Path]:
    """Create the CA and the controller's certificate. Refuses to overwrite a CA."""
    now = now or dt.datetime.now(dt.UTC)
    if (directory / "ca.key").exists():
        raise PkiError(f"{directory / 'ca.key'} exists already; refusing to replace the fleet's CA")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchman CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(directory / "ca.key", _key_pem(key), private=True)
    _write(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    written = [directory / "ca.pem", directory / "ca.key"]
    written += issue(directory, "controller", CONTROLLER_IDENTITY, ["localhost", "127.0.0.1", "::1", *sans], now)
    return written


def issue(directory: Path, kind: str, name: str, sans: list[str], now: dt.datetime | None = None) -> list[Path]:
    """Issue a leaf certificate: ``kind`` is ``controller`` or ``agent``."""
    now = now or dt.datetime.now(dt.UTC)
    check_identifier("name", name)
    try:
        ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    except OSError as exc:
        raise PkiError(
            f"no CA in {directory}: run `switchman certs init --dir {directory}` first ({exc.strerror})"
        ) from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{directory / 'ca.key'} is not an ECDSA key made by `switchman certs init`")
    out = directory / "controller" if kind == "controller" else directory / "agents" / name
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_san([name, *sans])), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(out / "key.pem", _key_pem(key), private=True)
    _write(out / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    _write(out / "ca.pem", (directory / "ca.pem").read_bytes())
    return [out / "ca.pem", out / "cert.pem", out / "key.pem"]
