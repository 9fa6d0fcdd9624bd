"""Go ``text/template`` parsing (``parse.Tree``): actions, pipelines with
declarations, ``if``/``else if``/``else``, ``range`` (with ``$k, $v :=``,
``break``, ``continue``), ``with``, ``define``, ``template``, ``block``;
functions and variables are checked at parse time as Go checks them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from switchman.controller.alerts.gotemplate import nodes as n
from switchman.controller.alerts.gotemplate.lexer import Tok, Token, lex


class ParseError(Exception):
    """``template: NAME:LINE: message``; ``offset`` is where in the text it stopped."""

    def __init__(self, name: str, line: int, message: str, offset: int) -> None:
        super().__init__(f"template: {name}:{line}: {message}")
        self.line, self.message, self.offset = line, message, offset


@dataclass
class Tree:
    name: str
    root: n.ListNode
    text: str


@dataclass
class _Parser:
    name: str
    text: str
    funcs: Collection[str]
    tokens: list[Token]
    i: int = 0
    vars: list[str] = field(default_factory=lambda: ["$"])
    range_depth: int = 0
    last: Token | None = None
    trees: dict[str, Tree] = field(default_factory=dict)

    # tokens -------------------------------------------------------------
    def next(self) -> Token:
        t = self.tokens[min(self.i, len(self.tokens) - 1)]
        self.i += 1
        self.last = t
        return t

    def backup(self, k: int = 1) -> None:
        self.i -= k

    def peek(self) -> Token:
        t = self.tokens[min(self.i, len(self.tokens) - 1)]
        self.last = t
        return t

    def next_non_space(self) -> Token:
        t = self.next()
        while t.typ is Tok.SPACE:
            t = self.next()
        return t

    def peek_non_space(self) -> Token:
        t = self.next_non_space()
        self.backup()
        return t

    def error(self, message: str) -> ParseError:
        t = self.last or self.tokens[0]
        return ParseError(self.name, t.line, message, t.pos)

    def unexpected(self, t: Token, context: str) -> ParseError:
        if t.typ is Tok.ERROR:
            return self.error(t.val)
        return self.error(f"unexpected {t} in {context}")

    def expect(self, typ: Tok, context: str) -> Token:
        t = self.next_non_space()
        if t.typ is not typ:
            raise self.unexpected(t, context)
        return t

    # structure ----------------------------------------------------------
    def parse(self) -> n.ListNode:
        root = n.ListNode(0)
        while self.peek().typ is not Tok.EOF:
            if self.peek().typ is Tok.LEFT:
                at = self.i
                self.next()
                t = self.next_non_space()
                if t.typ is Tok.KEYWORD and t.val == "define":
                    self._definition()
                    continue
                self.i = at
            node = self._text_or_action()
            if isinstance(node, _End | _Else):
                raise self.error(f"unexpected {node}")
            if node is not None:
                root.nodes.append(node)
        return root

    def _definition(self) -> None:
        context = "define clause"
        t = self.next_non_space()
        if t.typ not in (Tok.STRING, Tok.RAW):
            raise self.unexpected(t, context)
        name = _unquote(t.val)
        self.expect(Tok.RIGHT, context)
        saved_vars, self.vars = self.vars, ["$"]
        body, end = self._item_list()
        self.vars = saved_vars
        if not isinstance(end, _End):
            raise self.error(f"unexpected {end} in {context}")
        self._add(name, body)

    def _add(self, name: str, body: n.ListNode) -> None:
        known = self.trees.get(name)
        if known is None or _empty(known.root):
            self.trees[name] = Tree(name, body, self.text)
        elif not _empty(body):
            raise self.error(f'template: multiple definition of template "{name}"')

    def _item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ is not Tok.EOF:
            node = self._text_or_action()
            if isinstance(node, _End | _Else):
                return lst, node
            if node is not None:
                lst.nodes.append(node)
        raise self.error("unexpected EOF")

    def _text_or_action(self) -> n.Node | None:
        t = self.next_non_space()
        if t.typ is Tok.TEXT:
            return n.Text(t.pos, t.val)
        if t.typ is Tok.LEFT:
            return self._action()
        raise self.unexpected(t, "input")

    def _action(self) -> n.Node:
        t = self.next_non_space()
        if t.typ is Tok.KEYWORD:
            match t.val:
                case "block":
                    return self._block()
                case "break" | "continue":
                    if self.range_depth == 0:
                        raise self.error(f"{{{{{t.val}}}}} outside {{{{range}}}}")
                    self.expect(Tok.RIGHT, t.val)
                    return n.Break(t.pos) if t.val == "break" else n.Continue(t.pos)
                case "else":
                    return self._else()
                case "end":
                    self.expect(Tok.RIGHT, "end")
                    return _End(t.pos)
                case "if" | "range" | "with":
                    return self._control(t.val, t.pos)
                case "template":
                    return self._template()
                case "define":
                    raise self.unexpected(t, "command")
        self.backup()
        first = self.peek()
        return n.Action(first.pos, self._pipeline("command", Tok.RIGHT))

    def _else(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ is Tok.KEYWORD and peek.val == "if":
            return _Else(peek.pos, chained=True)
        t = self.expect(Tok.RIGHT, "else")
        return _Else(t.pos)

    def _control(self, kind: str, pos: int) -> n.Node:
        mark = len(self.vars)
        pipe = self._pipeline(kind, Tok.RIGHT)
        if kind == "range":
            self.range_depth += 1
        body, nxt = self._item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body: n.ListNode | None = None
        if isinstance(nxt, _Else):
            if kind == "if" and nxt.chained:
                self.next_non_space()  # the `if` of `else if`
                else_body = n.ListNode(nxt.pos, [self._control("if", nxt.pos)])
            else:
                else_body, end = self._item_list()
                if not isinstance(end, _End):
                    raise self.error(f"expected end; found {end}")
        del self.vars[mark:]
        return n.Branch(pos, kind, pipe, body, else_body)

    def _template(self, context: str = "template clause") -> n.Node:
        t = self.next_non_space()
        if t.typ not in (Tok.STRING, Tok.RAW):
            raise self.unexpected(t, context)
        name = _unquote(t.val)
        pipe = None
        if self.next_non_space().typ is not Tok.RIGHT:
            self.backup()
            pipe = self._pipeline(context, Tok.RIGHT)
        return n.TemplateCall(t.pos, name, pipe)

    def _block(self) -> n.Node:
        call = self._template("block clause")
        assert isinstance(call, n.TemplateCall)
        saved_vars, self.vars = self.vars, ["$"]
        body, end = self._item_list()
        self.vars = saved_vars
        if not isinstance(end, _End):
            raise self.error(f"unexpected {end} in block clause")
        self._add(call.name, body)
        return call

    # pipelines ----------------------------------------------------------
    def _pipeline(self, context: str, end: Tok) -> n.Pipe:
        pipe = n.Pipe(self.peek_non_space().pos)
        self._declarations(pipe, context)
        while True:
            t = self.next_non_space()
            if t.typ is end:
                self._check_pipeline(pipe, context)
                return pipe
            if t.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self._command())
            else:
                raise self.unexpected(t, context)

    def _declarations(self, pipe: n.Pipe, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.typ is not Tok.VAR:
                return
            start = self.i
            self.next_non_space()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (Tok.ASSIGN, Tok.DECLARE):
                pipe.is_assign = nxt.typ is Tok.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.Variable(v.pos, [v.val]))
                self.vars.append(v.val)
                return
            if nxt.typ is Tok.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(n.Variable(v.pos, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (Tok.VAR, Tok.RIGHT, Tok.RPAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            del after
            self.i = start
            return

    def _check_pipeline(self, pipe: n.Pipe, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], n.Bool | n.Dot | n.Nil | n.Number | n.String):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def _command(self) -> n.Command:
        cmd = n.Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            t = self.next()
            if t.typ is Tok.SPACE:
                continue
            if t.typ in (Tok.RIGHT, Tok.RPAREN):
                self.backup()
            elif t.typ is not Tok.PIPE:
                raise self.unexpected(t, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def _operand(self) -> n.Node | None:
        node = self._term()
        if node is None:
            return None
        if self.peek().typ is Tok.FIELD:
            fields: list[str] = []
            while self.peek().typ is Tok.FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(node.pos, node.idents + fields)
            if isinstance(node, n.Variable):
                return n.Variable(node.pos, node.idents + fields)
            if isinstance(node, n.Bool | n.String | n.Number | n.Nil | n.Dot):
                raise self.error(f"unexpected . after term {str(node)!r}".replace("'", '"'))
            return n.Chain(node.pos, node, fields)
        return node

    def _term(self) -> n.Node | None:
        t = self.next_non_space()
        match t.typ:
            case Tok.IDENT:
                if t.val not in self.funcs:
                    raise self.error(f'function "{t.val}" not defined')
                return n.Identifier(t.pos, t.val)
            case Tok.DOT:
                return n.Dot(t.pos)
            case Tok.NIL:
                return n.Nil(t.pos)
            case Tok.VAR:
                if t.val not in self.vars:
                    raise self.error(f'undefined variable "{t.val}"')
                return n.Variable(t.pos, [t.val])
            case Tok.FIELD:
                return n.FieldNode(t.pos, [t.val[1:]])
            case Tok.BOOL:
                return n.Bool(t.pos, t.val == "true")
            case Tok.NUMBER | Tok.CHAR_CONST:
                return self._number(t)
            case Tok.LPAREN:
                return self._pipeline("parenthesized pipeline", Tok.RPAREN)
            case Tok.STRING | Tok.RAW:
                try:
                    return n.String(t.pos, t.val, _unquote(t.val))
                except ValueError as exc:
                    raise self.error(str(exc)) from None
        self.backup()
        return None

    def _number(self, t: Token) -> n.Number:
        num = number(t.pos, t.val, t.typ is Tok.CHAR_CONST)
        if num is None:
            raise self.error(f"illegal number syntax: {_q(t.val)}")
        return num


_OPERAND_START = {
    Tok.BOOL,
    Tok.CHAR_CONST,
    Tok.DOT,
    Tok.FIELD,
    Tok.IDENT,
    Tok.NUMBER,
    Tok.NIL,
    Tok.RAW,
    Tok.STRING,
    Tok.VAR,
    Tok.LPAREN,
}


@dataclass
class _End(n.Node):
    def __str__(self) -> str:
        return "{{end}}"


@dataclass
class _Else(n.Node):
    chained: bool = False

    def __str__(self) -> str:
        return "{{else}}"


def _empty(root: n.ListNode) -> bool:
    """Go's ``IsEmptyTree``: nothing but white space."""
    return all(isinstance(x, n.Text) and not x.text.strip() for x in root.nodes)


def _q(s: str) -> str:
    from switchman.controller.alerts.gotemplate.gofmt import quote

    return quote(s)


def number(pos: int, text: str, is_char: bool = False) -> n.Number | None:
    """Go's ``parse.NumberNode`` for a constant: which of int and float it is."""
    if is_char:
        try:
            ch = _unquote(text)
        except ValueError:
            return None
        if len(ch) != 1:
            return None
        return n.Number(pos, text, True, True, ord(ch), float(ord(ch)), True)
    body = text[1:] if text[:1] in "+-" else text
    neg = text.startswith("-")
    num = n.Number(pos, text)
    iv = _go_int(body)
    if iv is not None and -(2**63) <= (-iv if neg else iv) < 2**64:
        val = -iv if neg else iv
        if -(2**63) <= val < 2**63:
            num.is_int, num.int_val = True, val
        num.is_float, num.float_val = True, float(val)
        return num if num.is_int else None  # uint-only constants: not used by templates
    fv = _go_float(body)
    if fv is None:
        return None
    if not any(c in text for c in ".eEpP"):
        return None
    num.is_float, num.float_val = True, -fv if neg else fv
    if num.float_val.is_integer() and abs(num.float_val) < 2**63:
        num.is_int, num.int_val = True, int(num.float_val)
    return num


def _go_int(s: str) -> int | None:
    try:
        if len(s) > 1 and s[0] == "0" and s[1].isdigit():
            return int(s[1:].replace("_", ""), 8)
        return int(s, 0)
    except ValueError:
        return None


def _go_float(s: str) -> float | None:
    if s.lower().startswith("0x"):
        try:
            return float.fromhex(s.replace("_", ""))
        except ValueError:
            return None
    if "_" in s:
        return None
    try:
        return float(s) if s.lower() not in ("inf", "infinity", "nan") else None
    except ValueError:
        return None


def _unquote(s: str) -> str:
    """``strconv.Unquote`` of a Go string, raw string or character literal."""
    if s.startswith("`"):
        return s[1:-1]
    q, body = s[0], s[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1 : i + 2]
        simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == q:
            out.append(q)
            i += 2
        elif e in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif e and e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


def parse(name: str, text: str, funcs: Collection[str]) -> dict[str, Tree]:
    """Every template ``text`` defines, the main one under ``name``.

    :raises ParseError: with Go's message.
    """
    p = _Parser(name, text, funcs, lex(text))
    root = p.parse()
    main = Tree(name, root, text)
    known = p.trees.get(name)
    if known is None or _empty(known.root):
        p.trees[name] = main
    elif not _empty(root):
        raise ParseError(name, 1, f'template: multiple definition of template "{name}"', 0)
    return p.trees
