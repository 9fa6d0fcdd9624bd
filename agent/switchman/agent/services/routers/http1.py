"""HTTP/1.x message heads and bodies, as the builtin router's http mode
reads them (RFC 9112): strict enough to refuse what could smuggle a request
past it, small enough to read in one sitting.

A head is read whole (up to :data:`MAX_HEAD` bytes and :data:`MAX_HEADERS`
fields) and parsed into a :class:`Request` or :class:`Response` that keeps
the raw bytes, so a head that needs no change is forwarded as it came.
Bodies are copied, never buffered: by ``Content-Length``, by chunks
(``Transfer-Encoding: chunked``, trailers included), or until the sender
closes (responses only).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

MAX_HEAD = 32 * 1024  # request or status line and every header field together
MAX_HEADERS = 100
MAX_CHUNK_LINE = 4096
COPY = 64 * 1024

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^ \x00-\x20\x7f]+) HTTP/1\.([01])")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\x00-\x08\x0a-\x1f\x7f]*)?")
_VALUE = rb"[^\x00-\x08\x0a-\x1f\x7f]*"  # no control bytes but HTAB: no bare CR or LF
_FIELDS = re.compile(rb"(?:" + _TOKEN + rb":" + _VALUE + rb"\r\n)*")
# words of the fields that change how a message is read or forwarded (besides Host and Content-Length)
_SPECIAL = re.compile(rb"transfer-encoding|connection|keep-alive|upgrade|te:|trailer|expect")
_LENGTH = re.compile(rb"(?:^|\n)content-length:[ \t]*([0-9]+)[ \t]*\r\n")
_FIELD_PARTS = re.compile(rb"(" + _TOKEN + rb"):[ \t]*(" + _VALUE + rb"?)[ \t]*\r\n")
_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade"})
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS"})


class BadMessage(ValueError):
    """A head or body the router refuses (answered 400, then the connection closes)."""


class Framing(Enum):
    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    CLOSE = "close"  # until the sender closes: responses only


@dataclass(slots=True)
class Head:
    raw: bytes  # as received, CRLF CRLF included
    minor: int  # HTTP/1.<minor>
    fields: list[tuple[bytes, bytes]] | None  # (lower-case name, value) in order; None: not split (see all_fields)
    framing: Framing
    length: int  # Framing.LENGTH
    keep_alive: bool  # what the sender wants for its side of the connection
    hop: bool  # carries hop-by-hop fields to drop before forwarding
    upgrade: bool  # Connection: upgrade with an Upgrade field


@dataclass(slots=True)
class Request(Head):
    method: bytes
    target: bytes
    expect_continue: bool


@dataclass(slots=True)
class Response(Head):
    status: int


def _check(block: bytes) -> bytes:
    """Validate a head's field block (each line ending CRLF); returns it in lower case."""
    if block.count(b"\n") > MAX_HEADERS:
        raise BadMessage(f"more than {MAX_HEADERS} header fields")
    if _FIELDS.fullmatch(block) is None:
        raise BadMessage("malformed header field")  # obs-fold, bare CR/LF, space before colon, control bytes
    return block.lower()


def _plain(lower: bytes) -> bool:
    """No field that changes how the message is read or forwarded (a false
    alarm only sends the head down the slow path)."""
    return _SPECIAL.search(lower) is None


def _count(lower: bytes, name: bytes) -> int:
    return lower.startswith(name) + lower.count(b"\n" + name)


def _fields(block: bytes) -> list[tuple[bytes, bytes]]:
    return [(n.lower(), v) for n, v in _FIELD_PARTS.findall(block)]


def all_fields(head: Head) -> list[tuple[bytes, bytes]]:
    """Every field of ``head`` (split on first use: most heads are forwarded as they came)."""
    if head.fields is None:
        head.fields = _fields(head.raw[head.raw.index(b"\r\n") + 2 : -2])
    return head.fields


def _split(raw: bytes) -> tuple[bytes, bytes]:
    """(start line, field block) of a head ending CRLF CRLF; the start line's
    patterns refuse CR and LF in it."""
    end = raw.find(b"\r\n")
    return raw[:end], raw[end + 2 : -2]


def _connection(fields: list[tuple[bytes, bytes]], minor: int) -> tuple[bool, bool, bool, set[bytes]]:
    """(keep_alive, hop, upgrade, names listed in Connection)."""
    tokens: set[bytes] = set()
    hop = False
    upgrade_field = False
    for name, value in fields:
        if name in _HOP:
            hop = True
            if name == b"connection":
                tokens.update(t.strip().lower() for t in value.split(b","))
            elif name == b"upgrade":
                upgrade_field = True
    keep_alive = b"keep-alive" in tokens if minor == 0 else b"close" not in tokens
    return keep_alive, hop, upgrade_field and b"upgrade" in tokens, tokens


def _body_framing(fields: list[tuple[bytes, bytes]], response: bool) -> tuple[Framing, int]:
    lengths = [v for n, v in fields if n == b"content-length"]
    codings = [c.strip().lower() for n, v in fields if n == b"transfer-encoding" for c in v.split(b",")]
    if codings:
        if lengths:
            raise BadMessage("both Transfer-Encoding and Content-Length")  # a classic smuggling vector
        if codings[-1] != b"chunked":
            if response:
                return Framing.CLOSE, 0
            raise BadMessage("a request's last transfer coding must be chunked")
        return Framing.CHUNKED, 0
    if lengths:
        values = {v.strip() for one in lengths for v in one.split(b",")}
        if len(values) != 1:
            raise BadMessage("conflicting Content-Length values")
        value = values.pop()
        if not value.isdigit() or len(value) > 18:
            raise BadMessage(f"bad Content-Length {value[:20]!r}")
        n = int(value)
        return (Framing.LENGTH, n) if n else (Framing.NONE, 0)
    return (Framing.CLOSE, 0) if response else (Framing.NONE, 0)


def parse_request(raw: bytes) -> Request:
    """:raises BadMessage:"""
    first, block = _split(raw)
    m = _REQUEST_LINE.fullmatch(first)
    if m is None:
        raise BadMessage(f"malformed request line {first[:60]!r}")
    minor = int(m.group(3))
    lower = _check(block)
    hosts = _count(lower, b"host:")
    if hosts != 1 and (minor == 1 or hosts):
        raise BadMessage("an HTTP/1.1 request without Host" if not hosts else "more than one Host")
    if b"content-length:" not in lower and _plain(lower):  # the common case: nothing beyond the request line
        return Request(raw, minor, None, Framing.NONE, 0, minor == 1, False, False, m.group(1), m.group(2), False)
    fields = _fields(block)
    keep_alive, hop, upgrade, _ = _connection(fields, minor)
    framing, length = _body_framing(fields, response=False)
    expect = any(n == b"expect" and v.lower() == b"100-continue" for n, v in fields)
    method = m.group(1)
    return Request(raw, minor, fields, framing, length, keep_alive, hop, upgrade, method, m.group(2), expect)


def parse_response(raw: bytes, method: bytes) -> Response:
    """The head of the answer to a ``method`` request. :raises BadMessage:"""
    first, block = _split(raw)
    m = _STATUS_LINE.fullmatch(first)
    if m is None:
        raise BadMessage(f"malformed status line {first[:60]!r}")
    minor, status = int(m.group(1)), int(m.group(2))
    lower = _check(block)
    no_body = method == b"HEAD" or status < 200 or status in (204, 304) or (method == b"CONNECT" and status < 300)
    if minor == 1 and not no_body and _count(lower, b"content-length:") == 1 and _plain(lower):
        cl = _LENGTH.search(lower)  # the common case: a length and nothing else
        if cl is not None and len(cl.group(1)) <= 18:
            n = int(cl.group(1))
            return Response(raw, minor, None, Framing.LENGTH if n else Framing.NONE, n, True, False, False, status)
    fields = _fields(block)
    keep_alive, hop, upgrade, _ = _connection(fields, minor)
    if no_body:
        framing, length = Framing.NONE, 0
    else:
        framing, length = _body_framing(fields, response=True)
    if framing is Framing.CLOSE:
        keep_alive = False
    return Response(raw, minor, fields, framing, length, keep_alive, hop, upgrade, status)


def rebuild(first: bytes, head: Head, extra: bytes = b"", keep: frozenset[bytes] = frozenset()) -> bytes:
    """``first`` line, the head's end-to-end fields (hop-by-hop ones and those
    named in Connection dropped, except ``keep``), then ``extra`` fields."""
    fields = all_fields(head)
    _, _, _, listed = _connection(fields, head.minor)
    drop = (_HOP | listed) - keep
    parts = [first]
    parts.extend(b"%s: %s" % (n, v) for n, v in fields if n not in drop)
    if extra:
        parts.append(extra)
    return b"\r\n".join(parts) + b"\r\n\r\n"


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """One head, CRLF CRLF included; b"" when the peer closed between messages.

    Empty lines before a request line are skipped (RFC 9112 2.2).
    :raises BadMessage: longer than :data:`MAX_HEAD`, or cut short.
    """
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise BadMessage(f"head longer than {MAX_HEAD} bytes") from None
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip(b"\r\n"):
            raise BadMessage("the head was cut short") from None
        return b""
    if raw[:2] == b"\r\n":
        raw = raw.lstrip(b"\r\n")
        if not raw:
            return await read_head(reader)
        if not raw.endswith(b"\r\n\r\n"):
            raw += await reader.readuntil(b"\r\n\r\n")
    return raw


Sink = Callable[[bytes], Awaitable[None]]


async def copy_length(reader: asyncio.StreamReader, n: int, sink: Sink) -> None:
    """:raises asyncio.IncompleteReadError: the sender closed early."""
    while n:
        data = await reader.read(min(n, COPY))
        if not data:
            raise asyncio.IncompleteReadError(b"", n)
        n -= len(data)
        await sink(data)


async def copy_chunked(reader: asyncio.StreamReader, sink: Sink, framed: bool = True) -> None:
    """Copy a chunked body through its last chunk and trailers; with
    ``framed`` false only the data goes to ``sink`` (for an HTTP/1.0 peer).

    :raises BadMessage: a malformed chunk size line.
    :raises asyncio.IncompleteReadError: the sender closed early.
    """
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError:
            raise BadMessage("chunk size line too long") from None
        if len(line) > MAX_CHUNK_LINE:
            raise BadMessage("chunk size line too long")
        size_text = line[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadMessage(f"bad chunk size {size_text[:20]!r}") from None
        if size < 0 or not size_text.isalnum():
            raise BadMessage(f"bad chunk size {size_text[:20]!r}")
        if size == 0:
            trailers = await reader.readuntil(b"\r\n")
            tail = [trailers]
            while trailers != b"\r\n":
                if sum(map(len, tail)) > MAX_HEAD:
                    raise BadMessage("trailers too long")
                trailers = await reader.readuntil(b"\r\n")
                tail.append(trailers)
            if framed:
                await sink(line + b"".join(tail))
            return
        if framed:
            await sink(line)
        await copy_length(reader, size, sink)
        crlf = await reader.readexactly(2)
        if crlf != b"\r\n":
            raise BadMessage("chunk data not followed by CRLF")
        if framed:
            await sink(crlf)


async def copy_until_close(reader: asyncio.StreamReader, sink: Sink) -> None:
    while data := await reader.read(COPY):
        await sink(data)
