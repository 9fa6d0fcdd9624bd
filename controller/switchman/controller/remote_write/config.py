"""``[[remote_write]]`` tables to :class:`Endpoint` values. Every error is a
:class:`~switchman.proto.settings.ConfigError` naming the file, the table
and the key, as the rest of the controller's configuration does."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from switchman.controller.promql.regex import Regex, compile_anchored
from switchman.proto.durations import parse_duration_ms
from switchman.proto.settings import ConfigError

KEYS = {
    "url",
    "name",
    "headers",
    "bearer_token_file",
    "basic_auth",
    "ca_file",
    "cert_file",
    "key_file",
    "insecure_skip_verify",
    "remote_timeout",
    "queue",
    "write_relabel",
}
QUEUE_KEYS = {"max_samples_per_send", "batch_send_deadline", "min_backoff", "max_backoff", "max_shards"}
RELABEL_KEYS = {"source_labels", "regex", "action", "separator"}
RESERVED_HEADERS = {
    "content-encoding",
    "content-type",
    "x-prometheus-remote-write-version",
    "user-agent",
    "authorization",
    "content-length",
    "host",
}
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Action(StrEnum):
    KEEP = "keep"
    DROP = "drop"


@dataclass(frozen=True)
class RelabelRule:
    """Prometheus' ``write_relabel_configs`` entry, keep or drop only."""

    source_labels: tuple[str, ...]
    regex: Regex
    action: Action
    separator: str = ";"


@dataclass(frozen=True)
class Queue:
    max_samples_per_send: int = 2000
    batch_send_deadline_ms: int = 5000
    min_backoff_ms: int = 30
    max_backoff_ms: int = 5000
    max_shards: int = 4


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password_file: str


@dataclass(frozen=True)
class Endpoint:
    """One receiver: where, how to authenticate, how to batch, what to send."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token_file: str = ""
    basic_auth: BasicAuth | None = None
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False
    timeout_ms: int = 30_000
    queue: Queue = Queue()
    relabel: tuple[RelabelRule, ...] = ()


class _Table:
    """Typed reads from one table, with errors naming where and the key."""

    def __init__(self, raw: Mapping[str, object], where: str, known: set[str]) -> None:
        self.raw, self.where = raw, where
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.where}: key {key!r}: {why}")

    def text(self, key: str, default: str = "") -> str:
        v = self.raw.get(key, default)
        if not isinstance(v, str):
            raise self.fail(key, f"expected a string, got {v!r}")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.raw.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(key, f"expected true or false, got {v!r}")
        return v

    def positive_int(self, key: str, default: int) -> int:
        v = self.raw.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise self.fail(key, f"expected a whole number greater than 0, got {v!r}")
        return v

    def duration_ms(self, key: str, default: str) -> int:
        v = self.raw.get(key, default)
        if not isinstance(v, str):
            raise self.fail(key, f'expected a duration string such as "5s", got {v!r}')
        try:
            ms = parse_duration_ms(v)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if ms <= 0:
            raise self.fail(key, "must be greater than 0")
        return ms

    def table(self, key: str) -> Mapping[str, object] | None:
        v = self.raw.get(key)
        if v is not None and not isinstance(v, dict):
            raise self.fail(key, f"expected a table, got {v!r}")
        return v


def default_name(url: str) -> str:
    """What an endpoint without ``name`` is called: its host, port and path."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".rstrip("/")


def parse_endpoints(tables: Sequence[Mapping[str, object]], source: str) -> list[Endpoint]:
    """:raises ConfigError: naming the file, ``remote_write[i]`` and the key."""
    out: list[Endpoint] = []
    for i, raw in enumerate(tables):
        e = _endpoint(_Table(raw, f"{source}: remote_write[{i}]", KEYS))
        if any(o.name == e.name for o in out):
            raise ConfigError(f"{source}: remote_write[{i}]: key 'name': {e.name!r} is used twice")
        out.append(e)
    return out


def _endpoint(t: _Table) -> Endpoint:
    url = t.text("url")
    if not url.startswith(("http://", "https://")) or not urlsplit(url).netloc:
        raise t.fail("url", f"expected an http:// or https:// URL, got {url!r}")
    name = t.text("name") or default_name(url)
    bearer = t.text("bearer_token_file")
    basic = _basic_auth(t)
    if bearer and basic is not None:
        raise t.fail("bearer_token_file", "use bearer_token_file or basic_auth, not both")
    cert, key = t.text("cert_file"), t.text("key_file")
    if bool(cert) != bool(key):
        raise t.fail("cert_file" if key else "key_file", "cert_file and key_file go together")
    return Endpoint(
        name=name,
        url=url,
        headers=_headers(t),
        bearer_token_file=bearer,
        basic_auth=basic,
        ca_file=t.text("ca_file"),
        cert_file=cert,
        key_file=key,
        insecure_skip_verify=t.flag("insecure_skip_verify", False),
        timeout_ms=t.duration_ms("remote_timeout", "30s"),
        queue=_queue(t),
        relabel=_relabel(t),
    )


def _headers(t: _Table) -> dict[str, str]:
    raw = t.table("headers") or {}
    out = {}
    for k, v in raw.items():
        if not isinstance(v, str):
            raise t.fail("headers", f"header {k!r}: expected a string value, got {v!r}")
        if k.lower() in RESERVED_HEADERS:
            raise t.fail("headers", f"header {k!r} is set by the controller and cannot be overridden")
        out[k] = v
    return out


def _basic_auth(t: _Table) -> BasicAuth | None:
    raw = t.table("basic_auth")
    if raw is None:
        return None
    sub = _Table(raw, f"{t.where}: basic_auth", {"username", "password_file"})
    username, password_file = sub.text("username"), sub.text("password_file")
    if not username:
        raise sub.fail("username", "expected a non-empty string")
    if not password_file:
        raise sub.fail("password_file", "expected the path of a file holding the password")
    return BasicAuth(username, password_file)


def _queue(t: _Table) -> Queue:
    raw = t.table("queue")
    if raw is None:
        return Queue()
    q = _Table(raw, f"{t.where}: queue", QUEUE_KEYS)
    min_backoff = q.duration_ms("min_backoff", "30ms")
    max_backoff = q.duration_ms("max_backoff", "5s")
    if max_backoff < min_backoff:
        raise q.fail("max_backoff", "must be at least min_backoff")
    return Queue(
        max_samples_per_send=q.positive_int("max_samples_per_send", 2000),
        batch_send_deadline_ms=q.duration_ms("batch_send_deadline", "5s"),
        min_backoff_ms=min_backoff,
        max_backoff_ms=max_backoff,
        max_shards=q.positive_int("max_shards", 4),
    )


def _relabel(t: _Table) -> tuple[RelabelRule, ...]:
    raw = t.raw.get("write_relabel", [])
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise t.fail("write_relabel", "expected a list of tables ({source_labels, regex, action})")
    rules = []
    for j, entry in enumerate(raw):
        r = _Table(entry, f"{t.where}: write_relabel[{j}]", RELABEL_KEYS)
        labels = r.raw.get("source_labels", [])
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise r.fail("source_labels", "expected a non-empty list of label names")
        bad = [x for x in labels if not _LABEL_NAME.match(x)]
        if bad:
            raise r.fail("source_labels", f"{bad[0]!r} is not a label name")
        action = r.text("action", "keep")
        if action not in tuple(Action):
            raise r.fail("action", f"expected keep or drop, got {action!r}")
        pattern = r.text("regex", "(.*)")
        try:
            regex = compile_anchored(pattern)
        except re.error as exc:
            raise r.fail("regex", str(exc)) from None
        rules.append(RelabelRule(tuple(labels), regex, Action(action), r.text("separator", ";")))
    return tuple(rules)
