"""Console sessions: a signed cookie naming the token it was opened with,
its expiry and a nonce. The token is checked again on every request (a
revoked token ends its sessions at once); the CSRF token of a session is an
HMAC of its nonce; logging out revokes the nonce. The signing key and the
nonces logged out (until their sessions would have expired) live in the
controller's state directory, so sessions, and their ends, survive a restart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from switchman.controller.security.tokens import TokenRecord, TokenStore

COOKIE = "switchman_session"
DEFAULT_TTL_MS = 12 * 3600 * 1000


@dataclass(frozen=True)
class Session:
    token: TokenRecord
    expires_ms: int
    nonce: str
    csrf: str


def load_key(path: Path) -> bytes:
    """The signing key, created (mode 0600) on first use."""
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _read_ended(path: Path | None) -> dict[str, int]:
    """The logged-out nonces and their sessions' expiry; a damaged line is skipped."""
    ended: dict[str, int] = {}
    if path is None or not path.exists():
        return ended
    for line in path.read_text().splitlines():
        nonce, _, expires = line.partition(" ")
        if nonce and expires.isdigit():
            ended[nonce] = int(expires)
    return ended


def _write_ended(path: Path, ended: dict[str, int]) -> None:
    """Whole or not at all: a temporary file, fsync, rename."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{n} {e}\n" for n, e in ended.items()))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Sessions:
    def __init__(
        self,
        key: bytes,
        tokens: Callable[[], TokenStore],
        ttl_ms: int = DEFAULT_TTL_MS,
        ended_file: Path | None = None,
    ) -> None:
        self._key = key
        self._tokens = tokens
        self.ttl_ms = ttl_ms
        self._ended_file = ended_file
        self._ended = _read_ended(ended_file)  # nonce -> expiry, for sessions logged out

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def csrf_of(self, nonce: str) -> str:
        return self._sign("csrf:" + nonce)

    def open(self, secret: str, now_ms: int) -> tuple[str, Session] | None:
        """A cookie value for a valid token, or None."""
        rec = self._tokens().authenticate(secret)
        if rec is None:
            return None
        nonce = secrets.token_urlsafe(16)
        expires = now_ms + self.ttl_ms
        payload = _b64(f"{rec.name}\n{rec.hash[:32]}\n{expires}\n{nonce}".encode())
        return f"{payload}.{self._sign(payload)}", Session(rec, expires, nonce, self.csrf_of(nonce))

    def check(self, cookie: str | None, now_ms: int) -> Session | None:
        """The session a cookie holds, if its signature, expiry and token still hold."""
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            name, hash_prefix, expires_text, nonce = _unb64(payload).decode().split("\n")
            expires = int(expires_text)
        except (ValueError, UnicodeDecodeError):
            return None
        if expires <= now_ms or nonce in self._ended:
            return None
        rec = next((t for t in self._tokens().list() if t.name == name and not t.revoked), None)
        if rec is None or not hmac.compare_digest(rec.hash[:32], hash_prefix):
            return None
        return Session(rec, expires, nonce, self.csrf_of(nonce))

    def end(self, session: Session, now_ms: int) -> None:
        """Log the session out; with a state directory, written before it returns.

        :raises OSError: the file could not be written (the session is still ended in memory)."""
        self._ended = {n: e for n, e in self._ended.items() if e > now_ms}
        self._ended[session.nonce] = session.expires_ms
        if self._ended_file is not None:
            _write_ended(self._ended_file, self._ended)
