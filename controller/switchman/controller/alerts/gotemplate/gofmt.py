"""Go's ``fmt`` as templates use it: ``Sprint``, ``Sprintln``, ``Sprintf``
with Go's verbs, flags, widths and error forms (``%!d(string=x)``,
``%!d(MISSING)``, ``%!(EXTRA ...)``), Go's float formatting (``%v`` is the
shortest form, exponent form below 1e-4 and from 1e6, as ``strconv``) and
``strconv.Quote``."""

from __future__ import annotations

import decimal
import math
import re
import unicodedata

from switchman.controller.alerts.gotemplate.values import Opaque, Struct, Vector, type_name

_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)?", re.DOTALL)


def go_float(v: float, verb: str = "g", prec: int = -1) -> str:
    """``strconv.FormatFloat(v, verb, prec, 64)`` for verbs e, E, f, F, g, G."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if verb in "fF":
        return _fixed(v, 6 if prec < 0 else prec)
    if verb in "eE":
        s = _exp(v, prec)
        return s.upper() if verb == "E" else s
    s = _general(v, prec)
    return s.upper() if verb == "G" else s


def _digits(v: float, prec: int) -> tuple[bool, str, int]:
    """(negative, significant digits, decimal exponent of the first digit):
    shortest when ``prec < 0``, else rounded to ``prec`` digits (half to even
    on the exact binary value, as strconv)."""
    neg = math.copysign(1.0, v) < 0
    if v == 0:
        return neg, "0", 0
    d = decimal.Decimal(repr(abs(v))) if prec < 0 else decimal.Decimal(abs(v))
    if prec >= 0:
        adjusted = d.adjusted()
        q = decimal.Decimal(1).scaleb(adjusted - max(prec, 1) + 1)
        d = d.quantize(q, rounding=decimal.ROUND_HALF_EVEN)
    _, digit_tuple, exponent = d.normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    return neg, digits, len(digits) - 1 + exponent


def _exp(v: float, prec: int) -> str:
    neg, digits, e = _digits(v, -1 if prec < 0 else prec + 1)
    if prec >= 0:
        digits = digits.ljust(prec + 1, "0")[: prec + 1]
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if neg else ''}{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"


def _fixed(v: float, prec: int) -> str:
    s = f"{decimal.Decimal(v):.{prec}f}" if math.isfinite(v) else str(v)
    if s.startswith("-") and math.copysign(1.0, v) < 0 and v == 0:
        return s
    return s


def _general(v: float, prec: int) -> str:
    """%g: shortest digits with prec < 0 (exponent form below 1e-4 and from
    1e6, as strconv), else ``prec`` significant digits (exponent form from 10**prec)."""
    neg, digits, e = _digits(v, -1 if prec < 0 else (prec or 1))
    eprec = 6 if prec < 0 else (prec or 1)
    if prec >= 0 and len(digits) < eprec and len(digits) >= e + 1:
        eprec = len(digits)
    if prec < 0:
        eprec = 6
    sign = "-" if neg else ""
    if e < -4 or e >= eprec:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if e < 0:
        return f"{sign}0.{'0' * (-e - 1)}{digits}"
    if len(digits) <= e + 1:
        return sign + digits + "0" * (e + 1 - len(digits))
    return f"{sign}{digits[: e + 1]}.{digits[e + 1 :]}"


def quote(s: str, ascii_only: bool = False) -> str:
    """``strconv.Quote``."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif (ch.isprintable() and (o < 0x80 or not ascii_only) and ch != "\ufffd") or ch == " ":
            out.append(ch)
        elif ch in _ESC:
            out.append(_ESC[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif ch == "\ufffd":
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def value(v: object, verb: str = "v", top: bool = True) -> str:
    """``fmt.Sprint``-style ``%v`` of one value."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, dict):
        inner = " ".join(f"{value(k, verb, False)}:{value(x, verb, False)}" for k, x in sorted(v.items()))
        return f"map[{inner}]"
    if isinstance(v, Vector):
        return "[" + " ".join(value(s, verb, False) for s in v.samples) + "]"
    if isinstance(v, list):
        return "[" + " ".join(value(s, verb, False) for s in v) + "]"
    if isinstance(v, Struct):
        body = "{" + " ".join(value(x, verb, False) for x in v.fields.values()) + "}"
        return ("&" if v.pointer else "") + body
    if isinstance(v, Opaque):
        return v.text
    return str(v)


def sprint(args: list[object]) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(value(a))
    return "".join(out)


def sprintln(args: list[object]) -> str:
    return " ".join(value(a) for a in args) + "\n"


def sprintf(fmt: str, args: list[object]) -> str:
    """``fmt.Sprintf``."""
    out: list[str] = []
    argi = 0
    i = 0
    while i < len(fmt):
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        m = _VERB.match(fmt, j)
        assert m is not None
        flags, width_s, prec_s, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        i = m.end()
        if verb is None:
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        width: int | None = None
        prec: int | None = None
        if width_s == "*":
            width, argi, bad = _star(args, argi)
            if bad:
                out.append("%!(BADWIDTH)")
            elif width is not None and width < 0:
                flags, width = flags + "-", -width
        elif width_s:
            width = int(width_s)
        if prec_s == "*":
            prec, argi, bad = _star(args, argi)
            if bad or (prec is not None and prec < 0):
                out.append("%!(BADPREC)")
                prec = None
        elif prec_s is not None:
            prec = int(prec_s) if prec_s else 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        out.append(_pad(_one(arg, verb, flags, prec), flags, width, arg, verb))
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={value(a)}" if a is not None else "<nil>" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _star(args: list[object], argi: int) -> tuple[int | None, int, bool]:
    if argi >= len(args) or isinstance(args[argi], bool) or not isinstance(args[argi], int):
        return None, argi + 1, True
    n = args[argi]
    assert isinstance(n, int)
    return n, argi + 1, False


def _pad(s: str, flags: str, width: int | None, arg: object, verb: str) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s + " " * (width - len(s))
    numeric = isinstance(arg, int | float) and not isinstance(arg, bool)
    if "0" in flags and (numeric and not (isinstance(arg, float) and not math.isfinite(arg))):
        sign = s[0] if s[:1] in ("+", "-", " ") else ""
        body = s[len(sign) :]
        return sign + "0" * (width - len(s)) + body
    if "0" in flags and isinstance(arg, str) and verb in "sqvxX":
        return "0" * (width - len(s)) + s
    return " " * (width - len(s)) + s


def _bad(verb: str, arg: object) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={value(arg)})"


def _one(arg: object, verb: str, flags: str, prec: int | None) -> str:
    if verb == "T":
        return type_name(arg)
    if arg is None:
        return "<nil>" if verb == "v" else _bad(verb, arg)
    if isinstance(arg, bool):
        return ("true" if arg else "false") if verb in "tv" else _bad(verb, arg)
    if isinstance(arg, int):
        return _int(arg, verb, flags, prec)
    if isinstance(arg, float):
        return _float(arg, verb, flags, prec)
    if isinstance(arg, str):
        return _str(str(arg), verb, flags, prec)
    if isinstance(arg, dict):
        inner = " ".join(f"{_one(k, verb, flags, prec)}:{_one(x, verb, flags, prec)}" for k, x in sorted(arg.items()))
        return f"map[{inner}]"
    if isinstance(arg, Opaque):
        return _str(arg.text, verb, flags, prec) if verb in "vsqxX" else _bad(verb, arg)
    if verb == "v":
        return value(arg)
    if isinstance(arg, Struct | Vector | list):
        return value(arg)
    return _bad(verb, arg)


def _sign(neg: bool, flags: str) -> str:
    return "-" if neg else ("+" if "+" in flags else (" " if " " in flags else ""))


def _int(n: int, verb: str, flags: str, prec: int | None) -> str:
    bases = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}
    if verb == "c":
        return chr(n) if 0 <= n <= 0x10FFFF else "\ufffd"
    if verb == "q":
        return (
            "'" + quote(chr(n) if 0 <= n <= 0x10FFFF else "\ufffd")[1:-1].replace("'", "\\'").replace('\\"', '"') + "'"
        )
    if verb == "U":
        return f"U+{n:04X}"
    if verb not in bases:
        return _bad(verb, n)
    digits = {10: "d", 2: "b", 8: "o", 16: "x"}[bases[verb]]
    body = format(abs(n), digits)
    if verb == "X":
        body = body.upper()
    if prec is not None:
        body = "" if prec == 0 and n == 0 else body.rjust(prec, "0")
    prefix = ""
    if "#" in flags:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "")
    if verb == "O":
        prefix = "0o"
    return _sign(n < 0, flags) + prefix + body


def _float(v: float, verb: str, flags: str, prec: int | None) -> str:
    if verb not in "eEfFgGvxXb":
        return _bad(verb, v)
    if verb == "v":
        verb = "g"
    if verb in "xX":
        return _hexfloat(v, verb, prec)
    if verb == "b":
        m, e = math.frexp(v)
        return f"{int(m * 2**53)}p{e - 53:+d}"
    s = go_float(v, verb, (6 if verb in "eEfF" else -1) if prec is None else prec)
    if not math.isnan(v) and not s.startswith(("-", "+")):
        s = _sign(False, flags) + s
    elif math.isnan(v) and ("+" in flags or " " in flags):
        s = ("+" if "+" in flags else " ") + s
    elif s.startswith("+") and "+" not in flags and math.isinf(v):
        s = (" " if " " in flags else "+") + s[1:]
    return s


def _hexfloat(v: float, verb: str, prec: int | None) -> str:
    if not math.isfinite(v):
        return go_float(v)
    neg = math.copysign(1.0, v) < 0
    h = float.hex(abs(v))  # 0x1.8000000000000p+1
    mant, exp = h[2:].split("p")
    if prec is None:
        mant = mant.rstrip("0").rstrip(".")
    else:
        whole, _, frac = mant.partition(".")
        mant = whole + ("." + frac.ljust(prec, "0")[:prec] if prec else "")
    e = int(exp)
    s = f"{'-' if neg else ''}0x{mant}p{'-' if e < 0 else '+'}{abs(e):02d}"
    return s.upper().replace("0X", "0X") if verb == "X" else s


def _str(s: str, verb: str, flags: str, prec: int | None) -> str:
    if prec is not None and verb in "sqv":
        s = s[:prec]
    if verb in "sv":
        return s
    if verb == "q":
        if "#" in flags and "`" not in s and all(c.isprintable() or c == "\t" for c in s):
            return f"`{s}`"
        return quote(s, ascii_only="+" in flags)
    if verb in "xX":
        data = s.encode()
        if prec is not None:
            data = data[:prec]
        parts = [format(b, "02x" if verb == "x" else "02X") for b in data]
        prefix = ("0x" if verb == "x" else "0X") if "#" in flags else ""
        if " " in flags:
            return " ".join(prefix + p for p in parts)
        return prefix + "".join(parts)
    return _bad(verb, s)


def html_escape(s: str) -> str:
    """``template.HTMLEscapeString``."""
    table = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\x00": "\ufffd"}
    return "".join(table.get(c, c) for c in s)


def js_escape(s: str) -> str:
    """``template.JSEscapeString``."""
    table = {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "<": "\\u003C",
        ">": "\\u003E",
        "&": "\\u0026",
        "=": "\\u003D",
    }
    out = []
    for c in s:
        if c in table:
            out.append(table[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04X}")
        elif ord(c) < 0x80 or (c.isprintable() and unicodedata.category(c) != "Zs"):
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def query_escape(s: str) -> str:
    """``url.QueryEscape``: space as ``+``, unreserved ``-_.~`` kept."""
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.~"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append(f"%{b:02X}")
    return "".join(out)
