"""Go ``text/template`` lexing: text and ``{{ }}`` actions, ``{{- -}}`` trim
markers, ``{{/* */}}`` comments, and the action tokens (identifiers,
``.Field``, ``$var``, strings, raw strings, characters, numbers, ``:=``,
``=``, ``|``, parentheses), with Go's error messages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
_SPACE = " \t\r\n"


class Tok(StrEnum):
    TEXT = "text"
    LEFT = "left delim"
    RIGHT = "right delim"
    SPACE = "space"
    IDENT = "identifier"
    FIELD = "field"
    VAR = "variable"
    DOT = "dot"
    STRING = "string"
    RAW = "raw string"
    CHAR_CONST = "character constant"
    NUMBER = "number"
    BOOL = "bool"
    NIL = "nil"
    PIPE = "pipe"
    LPAREN = "("
    RPAREN = ")"
    ASSIGN = "="
    DECLARE = ":="
    CHAR = "char"
    KEYWORD = "keyword"
    EOF = "EOF"
    ERROR = "error"


@dataclass(frozen=True)
class Token:
    typ: Tok
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        if self.typ is Tok.EOF:
            return "EOF"
        if self.typ is Tok.ERROR:
            return self.val
        if self.typ is Tok.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _goquote(self.val[:10]) + "..."
        return _goquote(self.val)


def _goquote(s: str) -> str:
    from switchman.controller.alerts.gotemplate.gofmt import quote

    return quote(s)


def _alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdigit()


def _unicode_name(c: str) -> str:
    """Go's ``%#U``: ``U+0040 '@'``."""
    return f"U+{ord(c):04X} '{c}'" if c.isprintable() else f"U+{ord(c):04X}"


class Lexer:
    """Turns a template into tokens; a lexing error ends the list with an
    ``ERROR`` token, as Go's lexer stops."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.tokens: list[Token] = []
        self.paren_depth = 0

    def emit(self, typ: Tok) -> None:
        self.tokens.append(Token(typ, self.text[self.start : self.pos], self.start, self.start_line))
        self._ignore()

    def _ignore(self) -> None:
        self.line += self.text.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def error(self, msg: str) -> bool:
        self.tokens.append(Token(Tok.ERROR, msg, self.start, self.start_line))
        return False

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    def run(self) -> list[Token]:
        n = len(self.text)
        while True:
            x = self.text.find("{{", self.pos)
            if x < 0:
                self.pos = n
                if self.pos > self.start:
                    self.emit(Tok.TEXT)
                self.tokens.append(Token(Tok.EOF, "", self.pos, self.line))
                return self.tokens
            trim = self.text[x + 2 : x + 3] == "-" and self.text[x + 3 : x + 4] in tuple(_SPACE)
            self.pos = x
            if trim:
                end = x
                while end > self.start and self.text[end - 1] in _SPACE:
                    end -= 1
                self.pos = end
            if self.pos > self.start:
                self.emit(Tok.TEXT)
            self.pos = x
            self._ignore()
            if not self._action(trim):
                return self.tokens

    def _right_delim(self) -> tuple[bool, bool]:
        t, p = self.text, self.pos
        if p + 1 < len(t) and t[p] in _SPACE and t[p + 1] == "-" and t.startswith("}}", p + 2):
            return True, True
        return t.startswith("}}", p), False

    def _skip_after_trim(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1
        self._ignore()

    def _action(self, trim: bool) -> bool:
        after = self.pos + 2 + (2 if trim else 0)
        if self.text.startswith("/*", after):
            return self._comment(after)
        self.pos += 2
        self.emit(Tok.LEFT)
        if trim:
            self.pos += 2
            self._ignore()
        return self._inside()

    def _comment(self, after: int) -> bool:
        self.pos = after
        self._ignore()
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            return self.error("unclosed comment")
        self.pos = end + 2
        delim, trim = self._right_delim()
        if not delim:
            return self.error("comment ends before closing delimiter")
        self.pos += 4 if trim else 2
        self._ignore()
        if trim:
            self._skip_after_trim()
        return True

    def _inside(self) -> bool:
        while True:
            delim, trim = self._right_delim()
            if delim:
                if self.paren_depth:
                    return self.error("unclosed left paren")
                if trim:
                    self.pos += 2
                    self._ignore()
                self.pos += 2
                self.emit(Tok.RIGHT)
                if trim:
                    self._skip_after_trim()
                return True
            c = self.peek()
            if c == "":
                return self.error("unclosed action")
            if not self._token(c):
                return False

    def _token(self, c: str) -> bool:
        """One token of an action starting with ``c``; False after an error."""
        if c in _SPACE:
            self._space()
        elif c == "=":
            self.pos += 1
            self.emit(Tok.ASSIGN)
        elif c == ":":
            if self.peek(1) != "=":
                self.pos += 1
                return self.error("expected :=")
            self.pos += 2
            self.emit(Tok.DECLARE)
        elif c == "|":
            self.pos += 1
            self.emit(Tok.PIPE)
        elif c == '"':
            return self._quoted('"', Tok.STRING, "unterminated quoted string")
        elif c == "`":
            end = self.text.find("`", self.pos + 1)
            if end < 0:
                return self.error("unterminated raw quoted string")
            self.pos = end + 1
            self.emit(Tok.RAW)
        elif c == "'":
            return self._quoted("'", Tok.CHAR_CONST, "unterminated character constant")
        elif c == "$":
            self.pos += 1
            return self._word(Tok.VAR)
        elif c == "." and not self.peek(1).isdigit():
            self.pos += 1
            return self._word(Tok.FIELD)
        elif c in "+-." or c.isdigit():
            return self._number()
        elif _alnum(c):
            return self._identifier()
        elif c == "(":
            self.pos += 1
            self.paren_depth += 1
            self.emit(Tok.LPAREN)
        elif c == ")":
            self.pos += 1
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.error(f"unexpected right paren {_unicode_name(c)}")
            self.emit(Tok.RPAREN)
        elif c.isascii() and c.isprintable():
            self.pos += 1
            self.emit(Tok.CHAR)
        else:
            self.pos += 1
            return self.error(f"unrecognized character in action: {_unicode_name(c)}")
        return True

    def _space(self) -> None:
        spaces = 0
        while self.peek() and self.peek() in _SPACE:
            self.pos += 1
            spaces += 1
        if self.peek() == "-" and self.text.startswith("}}", self.pos + 1):
            self.pos -= 1
            if spaces == 1:
                return
        self.emit(Tok.SPACE)

    def _quoted(self, q: str, typ: Tok, msg: str) -> bool:
        i = self.pos + 1
        while True:
            c = self.text[i] if i < len(self.text) else ""
            if c == "\\":
                i += 1
                c = self.text[i] if i < len(self.text) else ""
                if c in ("", "\n"):
                    self.pos = i
                    return self.error(msg)
            elif c in ("", "\n"):
                self.pos = i
                return self.error(msg)
            elif c == q:
                break
            i += 1
        self.pos = i + 1
        self.emit(typ)
        return True

    def _at_terminator(self) -> bool:
        c = self.peek()
        return c == "" or c in _SPACE or c in ".,|:)(}"

    def _word(self, typ: Tok) -> bool:
        """After ``$`` or ``.``: a variable or field name (``$`` / ``.`` alone when none follows)."""
        if self._at_terminator():
            self.emit(Tok.VAR if typ is Tok.VAR else Tok.DOT)
            return True
        while self.peek() and _alnum(self.peek()):
            self.pos += 1
        if not self._at_terminator():
            c = self.peek()
            self.pos += 1
            return self.error(f"bad character {_unicode_name(c)}")
        self.emit(typ)
        return True

    def _identifier(self) -> bool:
        while self.peek() and _alnum(self.peek()):
            self.pos += 1
        if not self._at_terminator():
            c = self.peek()
            self.pos += 1
            return self.error(f"bad character {_unicode_name(c)}")
        word = self.text[self.start : self.pos]
        if word in KEYWORDS:
            self.emit(Tok.KEYWORD)
        elif word in ("true", "false"):
            self.emit(Tok.BOOL)
        elif word == "nil":
            self.emit(Tok.NIL)
        else:
            self.emit(Tok.IDENT)
        return True

    def _accept(self, chars: str) -> bool:
        if self.peek() and self.peek() in chars:
            self.pos += 1
            return True
        return False

    def _accept_run(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def _number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if self.peek() and _alnum(self.peek()):
            self.pos += 1
            return self.error(f"bad number syntax: {_goquote(self.text[self.start : self.pos])}")
        self.emit(Tok.NUMBER)
        return True


def lex(text: str) -> list[Token]:
    return Lexer(text).run()
