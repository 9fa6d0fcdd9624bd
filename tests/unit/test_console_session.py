"""Console sessions: signed, expiring, tied to a live token, ended by logout."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchman.controller.console.session import Sessions, load_key
from switchman.controller.security.tokens import TokenStore
from switchman.controller.store.memory import MemoryStore

HOUR = 3_600_000


def sessions_with_token(tmp_path: Path) -> tuple[Sessions, TokenStore, str]:
    tokens = TokenStore(MemoryStore())
    _, secret = asyncio.run(tokens.create("oncall", "operator", 0))
    return Sessions(load_key(tmp_path / "console.key"), lambda: tokens, ttl_ms=HOUR), tokens, secret


def test_a_session_holds_until_it_expires_and_names_its_token(tmp_path: Path) -> None:
    sessions, _, secret = sessions_with_token(tmp_path)
    assert sessions.open("smt_wrong", 0) is None
    opened = sessions.open(secret, 1000)
    assert opened is not None
    cookie, s = opened
    assert secret not in cookie, "the cookie never carries the token itself"
    checked = sessions.check(cookie, 1000 + HOUR - 1)
    assert checked is not None and checked.token.name == "oncall" and checked.csrf == s.csrf
    assert sessions.check(cookie, 1000 + HOUR) is None, "expired"


def test_a_tampered_cookie_a_revoked_token_and_a_logout_end_the_session(tmp_path: Path) -> None:
    sessions, tokens, secret = sessions_with_token(tmp_path)
    opened = sessions.open(secret, 0)
    assert opened is not None
    cookie, s = opened
    payload, _, signature = cookie.partition(".")
    assert sessions.check(payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature, 1) is None
    assert sessions.check(cookie + "x", 1) is None
    assert sessions.check(None, 1) is None and sessions.check("garbage", 1) is None
    other = sessions.open(secret, 0)
    assert other is not None
    sessions.end(s, 1)
    assert sessions.check(cookie, 2) is None, "logged out"
    assert sessions.check(other[0], 2) is not None, "another session of the same token goes on"
    asyncio.run(tokens.revoke("oncall"))
    assert sessions.check(other[0], 3) is None, "revoking the token ends its sessions at once"


def test_the_key_survives_a_restart_and_csrf_tokens_differ_per_session(tmp_path: Path) -> None:
    sessions, tokens, secret = sessions_with_token(tmp_path)
    first, second = sessions.open(secret, 0), sessions.open(secret, 0)
    assert first is not None and second is not None and first[1].csrf != second[1].csrf
    restarted = Sessions(load_key(tmp_path / "console.key"), lambda: tokens, ttl_ms=HOUR)
    assert restarted.check(first[0], 1) is not None
    assert (tmp_path / "console.key").stat().st_mode & 0o777 == 0o600


def test_a_logout_outlives_a_restart_until_the_session_would_have_expired(tmp_path: Path) -> None:
    sessions, tokens, secret = sessions_with_token(tmp_path)
    ended = tmp_path / "console.ended"
    sessions = Sessions(load_key(tmp_path / "console.key"), lambda: tokens, ttl_ms=HOUR, ended_file=ended)
    out, kept = sessions.open(secret, 0), sessions.open(secret, 0)
    assert out is not None and kept is not None
    sessions.end(out[1], 1)
    restarted = Sessions(load_key(tmp_path / "console.key"), lambda: tokens, ttl_ms=HOUR, ended_file=ended)
    assert restarted.check(out[0], 2) is None, "a stolen cookie of a logged-out session stays dead"
    assert restarted.check(kept[0], 2) is not None
    assert ended.stat().st_mode & 0o777 == 0o600
    later = restarted.open(secret, 2 * HOUR)
    assert later is not None
    restarted.end(later[1], 2 * HOUR)  # the first session has expired by now: its nonce is dropped
    assert ended.read_text().split() == [later[1].nonce, str(later[1].expires_ms)]
