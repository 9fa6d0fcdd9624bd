"""Reading the agents' certificates (expiry shown by `switchman hosts`)."""

from __future__ import annotations

from cryptography import x509


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
