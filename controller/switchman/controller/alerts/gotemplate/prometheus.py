"""Prometheus 2.42's template functions (``template/template.go``), each
with Go's signature and its exact output: ``humanize*``, ``title``,
``toUpper``, ``toLower``, ``match``, ``reReplaceAll``, ``safeHtml``,
``stripPort``, ``stripDomain``, ``parseDuration``, ``graphLink``,
``tableLink``, ``externalURL``, ``pathPrefix``, ``args``, ``toTime``, and
``query`` with ``first``, ``label``, ``value``, ``strvalue``, ``sortByLabel``."""

from __future__ import annotations

import datetime
import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
from switchman.controller.alerts.gotemplate import gofmt
from switchman.controller.alerts.gotemplate.values import HTML, AnyMap, Func, FuncError, Opaque, StrMap, Struct, Vector

_RE2 = re2.Options()
_RE2.log_errors = False
_NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"
SAMPLE_TYPE = "*template.sample"

QueryFunc = Callable[[str], Sequence[tuple[Mapping[str, str], float]]]


@dataclass(frozen=True)
class Context:
    """What an expansion can see besides labels and value: external labels and
    URL (``None``: none configured, as in ``promtool test rules``, where
    ``externalURL`` fails), the evaluation time and the ``query`` function."""

    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str | None = None
    ts_ms: int = 0
    query: QueryFunc | None = None


def parse_float(s: str) -> float:
    """``strconv.ParseFloat(s, 64)``.

    :raises FuncError: with strconv's message.
    """
    text = s[1:] if s[:1] in "+-" else s
    ok = re.fullmatch(r"(?i)(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)(e[+-]?\d+)?|inf|infinity|nan", text)
    hexok = re.fullmatch(r"(?i)0x[0-9a-f_]*\.?[0-9a-f_]*p[+-]?\d+", text)
    if ok and "_" in text:
        ok = None
    if not ok and not hexok:
        raise FuncError(f"strconv.ParseFloat: parsing {gofmt.quote(s)}: invalid syntax")
    v = float.fromhex(s.replace("_", "")) if hexok else float(s)
    if math.isinf(v) and "inf" not in text.lower():
        raise FuncError(f"strconv.ParseFloat: parsing {gofmt.quote(s)}: value out of range")
    return v


def to_float(i: object) -> float:
    """Prometheus' ``convertToFloat``."""
    if isinstance(i, float):
        return i
    if isinstance(i, str) and not isinstance(i, HTML):
        return parse_float(i)
    if isinstance(i, int) and not isinstance(i, bool):
        return float(i)
    from switchman.controller.alerts.gotemplate.values import type_name

    raise FuncError(f"can't convert {type_name(i)} to float")


def _g4(v: float) -> str:
    return gofmt.go_float(v, "g", 4)


def humanize(i: object) -> str:
    v = to_float(i)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    v, prefix = _small(v)
    return _g4(v) + prefix


def _small(v: float) -> tuple[float, str]:
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return v, prefix


def humanize1024(i: object) -> str:
    v = to_float(i)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return _g4(v) + prefix


def humanize_duration(i: object) -> str:
    v = to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v) if v < 2**63 else -(2**63)
        seconds, minutes = _trunc_mod(d, 60), _trunc_mod(_trunc_div(d, 60), 60)
        hours, days = _trunc_mod(_trunc_div(d, 3600), 24), _trunc_div(d, 86400)
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    v, prefix = _small(v)
    return f"{_g4(v)}{prefix}s"


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return -q if a < 0 else q


def _trunc_mod(a: int, b: int) -> int:
    return a - b * _trunc_div(a, b)


def humanize_percentage(i: object) -> str:
    return _g4(to_float(i) * 100) + "%"


def _to_time(v: float) -> Opaque:
    """``floatToTime``: millisecond precision, UTC, printed as Go's ``Time.String``."""
    ns = v * 1e9
    if ns > 2**63 - 1 or ns < -(2**63):
        raise FuncError(f"{gofmt.value(v)} cannot be represented as a nanoseconds timestamp since it overflows int64")
    ms = _trunc_div(int(ns), 1_000_000)
    try:
        t = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        raise FuncError(f"{gofmt.value(v)} is out of the range this renderer prints") from None
    frac = f".{t.microsecond // 1000:03d}".rstrip("0") if t.microsecond else ""
    return Opaque("*time.Time", t.strftime("%Y-%m-%d %H:%M:%S") + frac + " +0000 UTC")


def humanize_timestamp(i: object) -> str:
    v = to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    return _to_time(v).text


def to_time(i: object) -> Opaque:
    v = to_float(i)
    if math.isnan(v) or math.isinf(v):
        raise FuncError("value is NaN or Inf")
    return _to_time(v)


def title(s: str) -> str:
    """``strings.Title``: upper-case the first letter of each word."""
    out, prev = [], " "
    for c in s:
        out.append(_upper(c) if _separator(prev) else c)
        prev = c
    return "".join(out)


def _separator(c: str) -> bool:
    if c.isascii():
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdigit():
        return False
    return c.isspace()


def _upper(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c


def _lower(c: str) -> str:
    lo = c.lower()
    return lo if len(lo) == 1 else c


def _compile(pattern: str) -> object:
    try:
        return re2.compile(pattern, _RE2)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise FuncError(f"error parsing regexp: {reason}") from None


def match(pattern: str, text: str) -> bool:
    rx = _compile(pattern)
    return rx.search(text) is not None  # type: ignore[attr-defined]  # re2 pattern


def re_replace_all(pattern: str, repl: str, text: str) -> str:
    """Go's ``Regexp.ReplaceAllString`` (``$1``, ``${name}`` expansion; an empty
    match right after a match is not replaced)."""
    try:
        rx = _compile(pattern)
    except FuncError as exc:
        raise FuncError(f"regexp: Compile({_backquote(pattern)}): {exc}") from None
    out: list[str] = []
    last = pos = 0
    while pos <= len(text):
        m = rx.search(text, pos)  # type: ignore[attr-defined]  # re2 pattern
        if m is None:
            break
        a, b = m.span()
        out.append(text[last:a])
        if b > last or a == 0:
            out.append(_expand(repl, m, rx))
        last = b
        pos = pos + 1 if pos + 1 > b else b
    out.append(text[last:])
    return "".join(out)


def _backquote(s: str) -> str:
    return f"`{s}`" if "`" not in s and all(c.isprintable() or c == "\t" for c in s) else gofmt.quote(s)


def _expand(template: str, m: object, rx: object) -> str:
    names: dict[str, int] = dict(rx.groupindex)  # type: ignore[attr-defined]  # re2 pattern
    groups: int = rx.groups  # type: ignore[attr-defined]  # re2 pattern
    out: list[str] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        i = j + 1
        if template[i : i + 1] == "$":
            out.append("$")
            i += 1
            continue
        brace = template[i : i + 1] == "{"
        k = i + 1 if brace else i
        e = k
        while e < len(template) and (template[e].isalnum() or template[e] == "_") and template[e].isascii():
            e += 1
        if e == k or (brace and template[e : e + 1] != "}"):
            out.append("$")
            continue
        name = template[k:e]
        i = e + 1 if brace else e
        idx = int(name) if name.isdigit() else names.get(name, -1)
        if 0 <= idx <= groups:
            g = m.group(idx)  # type: ignore[attr-defined]  # re2 match
            out.append(g or "")
    return "".join(out)


def _split_host_port(hostport: str) -> tuple[str, str] | None:
    """``net.SplitHostPort``; None where Go returns an error."""
    i = hostport.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != i:
            return None
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return None
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return None
    return host, hostport[i + 1 :]


def strip_port(hostport: str) -> str:
    split = _split_host_port(hostport)
    return hostport if split is None else split[0]


def _is_ip(host: str) -> bool:
    if "%" in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def strip_domain(hostport: str) -> str:
    split = _split_host_port(hostport)
    host, port = split if split is not None else (hostport, "")
    if _is_ip(host):
        return hostport
    host = host.split(".")[0]
    if port:
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host


_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNITS_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)


def parse_duration(d: str) -> float:
    """``model.ParseDuration`` in seconds."""
    if d == "0":
        return 0.0
    if d == "":
        raise FuncError("empty duration string")
    m = _DURATION.fullmatch(d)
    if m is None:
        raise FuncError(f"not a valid duration string: {gofmt.quote(d)}")
    ms = sum(int(g) * u for g, u in zip(m.groups(), _UNITS_MS, strict=True) if g)
    if ms * 1_000_000 > 2**63 - 1:
        raise FuncError("duration out of range")
    return ms / 1000


def graph_link(expr: str, tab: int) -> str:
    return f"/graph?g0.expr={gofmt.query_escape(expr)}&g0.tab={tab}"


def sample(labels: Mapping[str, str], value: float) -> Struct:
    return Struct(SAMPLE_TYPE, {"Labels": StrMap(labels), "Value": value}, pointer=True)


def _need_sample(s: object) -> Struct:
    if s is None:
        raise FuncError(_NIL_DEREF)
    assert isinstance(s, Struct)
    return s


def _first(v: object) -> object:
    if isinstance(v, Vector) and v.samples:
        return v.samples[0]
    raise FuncError("first() called on vector with no elements")


def _label(name: str, s: object) -> str:
    labels = _need_sample(s).fields["Labels"]
    assert isinstance(labels, StrMap)
    return labels.get(name, "")


def _sort_by_label(name: str, v: object) -> object:
    if not isinstance(v, Vector):
        raise FuncError(_NIL_DEREF)

    def key(s: Struct) -> str:
        labels = s.fields["Labels"]
        return labels.get(name, "") if isinstance(labels, StrMap) else ""

    v.samples.sort(key=key)
    return v


def _args(*a: object) -> AnyMap:
    return AnyMap({f"arg{i}": x for i, x in enumerate(a)})


def funcs(ctx: Context) -> dict[str, Func]:
    """The function map of one expansion."""

    def query(q: str) -> Vector:
        if ctx.query is None:
            raise FuncError("no query function: templates are not evaluated against a store here")
        try:
            return Vector([sample(labels, v) for labels, v in ctx.query(q)])
        except FuncError:
            raise
        except Exception as exc:  # the evaluator's error becomes the template's, as in Prometheus
            raise FuncError(str(exc)) from None

    def external_url() -> str:
        if ctx.external_url is None:
            raise FuncError(_NIL_DEREF)
        return ctx.external_url

    def path_prefix() -> str:
        if ctx.external_url is None:
            raise FuncError(_NIL_DEREF)
        return urlsplit(ctx.external_url).path

    s, a = "string", "any"
    return {
        "query": Func((s,), query),
        "first": Func(("template.queryResult",), _first),
        "label": Func((s, SAMPLE_TYPE), _label),
        "value": Func((SAMPLE_TYPE,), lambda x: _need_sample(x).fields["Value"]),
        "strvalue": Func((SAMPLE_TYPE,), lambda x: _label("__value__", x)),
        "args": Func((a,), _args, variadic=True),
        "reReplaceAll": Func((s, s, s), re_replace_all),
        "safeHtml": Func((s,), HTML),
        "match": Func((s, s), match),
        "title": Func((s,), title),
        "toUpper": Func((s,), lambda x: "".join(_upper(c) for c in x)),
        "toLower": Func((s,), lambda x: "".join(_lower(c) for c in x)),
        "graphLink": Func((s,), lambda x: graph_link(x, 0)),
        "tableLink": Func((s,), lambda x: graph_link(x, 1)),
        "sortByLabel": Func((s, "template.queryResult"), _sort_by_label),
        "stripPort": Func((s,), strip_port),
        "stripDomain": Func((s,), strip_domain),
        "humanize": Func((a,), humanize),
        "humanize1024": Func((a,), humanize1024),
        "humanizeDuration": Func((a,), humanize_duration),
        "humanizePercentage": Func((a,), humanize_percentage),
        "humanizeTimestamp": Func((a,), humanize_timestamp),
        "toTime": Func((a,), to_time),
        "pathPrefix": Func((), path_prefix),
        "externalURL": Func((), external_url),
        "parseDuration": Func((s,), parse_duration),
    }


NAMES = frozenset(funcs(Context()))
