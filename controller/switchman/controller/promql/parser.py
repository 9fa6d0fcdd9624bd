# mypy: disable-error-code="comparison-overlap"
# (mypy narrows self.tok.kind across advance(), which moves to the next token)
"""Recursive-descent PromQL parser producing :mod:`~switchman.controller.promql.ast` nodes.

Every error names the position and what was expected.
"""

from __future__ import annotations

from switchman.controller.promql import ast
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.lexer import T, Token, tokenize
from switchman.proto.durations import DurationError, parse_duration_ms

_MATCH_OPS = {"=": ast.MatchOp.EQ, "!=": ast.MatchOp.NE, "=~": ast.MatchOp.RE, "!~": ast.MatchOp.NRE}


class Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0

    # helpers ---------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def advance(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, message: str, tok: Token | None = None) -> PromQLError:
        t = tok or self.tok
        return PromQLError(message, t.pos, self.expr)

    def expect(self, kind: T, what: str = "") -> Token:
        if self.tok.kind is not kind:
            raise self.error(f"expected {what or kind.value}, found {self._describe(self.tok)}")
        return self.advance()

    @staticmethod
    def _describe(t: Token) -> str:
        return "end of input" if t.kind is T.EOF else f"{t.kind.value} {t.text!r}"

    # grammar ---------------------------------------------------------------
    def parse(self) -> ast.Expr:
        if self.tok.kind is T.EOF:
            raise self.error("empty expression")
        node = self.parse_expr()
        if self.tok.kind is not T.EOF:
            if self.tok.kind is T.OP:
                raise self.error(f"binary operator {self.tok.text!r} is not supported by this controller version")
            raise self.error(f"unexpected {self._describe(self.tok)} after a complete expression")
        return node

    def parse_expr(self) -> ast.Expr:
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> ast.Expr:
        t = self.tok
        if t.kind is T.NUMBER:
            self.advance()
            return ast.NumberLiteral(_number(t.text))
        if t.kind is T.OP and t.text in ("-", "+") and self.toks[self.i + 1].kind is T.NUMBER:
            self.advance()
            num = self.advance()
            v = _number(num.text)
            return ast.NumberLiteral(-v if t.text == "-" else v)
        if t.kind is T.STRING:
            self.advance()
            return ast.StringLiteral(t.text)
        if t.kind is T.LPAREN:
            self.advance()
            inner = self.parse_expr()
            self.expect(T.RPAREN, "')'")
            return ast.Paren(inner)
        if t.kind is T.IDENT:
            if self.toks[self.i + 1].kind is T.LPAREN:
                raise self.error(f"function or aggregation {t.text!r} is not supported by this controller version")
            self.advance()
            matchers: list[ast.Matcher] = [ast.Matcher.make("__name__", ast.MatchOp.EQ, t.text)]
            if self.tok.kind is T.LBRACE:
                matchers += self.parse_matchers()
            return ast.VectorSelector(t.text, tuple(matchers))
        if t.kind is T.LBRACE:
            matchers = self.parse_matchers()
            if not any(not m.matches("") for m in matchers):
                raise self.error("vector selector must contain at least one non-empty matcher", t)
            name = next((m.value for m in matchers if m.name == "__name__" and m.op is ast.MatchOp.EQ), None)
            return ast.VectorSelector(name, tuple(matchers))
        raise self.error(f"expected an expression (a number, a string, a selector or '('), found {self._describe(t)}")

    def parse_matchers(self) -> list[ast.Matcher]:
        self.expect(T.LBRACE, "'{'")
        out: list[ast.Matcher] = []
        while self.tok.kind is not T.RBRACE:
            name = self.tok
            if name.kind is not T.IDENT:
                raise self.error(f"expected a label name, found {self._describe(name)}")
            self.advance()
            op = self.tok
            if op.kind is not T.OP or op.text not in _MATCH_OPS:
                raise self.error(f"expected a label matching operator (=, !=, =~, !~), found {self._describe(op)}")
            self.advance()
            val = self.expect(T.STRING, "a quoted label value")
            try:
                out.append(ast.Matcher.make(name.text, _MATCH_OPS[op.text], val.text))
            except Exception as exc:  # re.error
                raise self.error(f"invalid regular expression {val.text!r}: {exc}", val) from None
            if self.tok.kind is T.COMMA:
                self.advance()
            elif self.tok.kind is not T.RBRACE:
                raise self.error(f"expected ',' or '}}' in label matchers, found {self._describe(self.tok)}")
        self.advance()
        return out

    def parse_postfix(self, node: ast.Expr) -> ast.Expr:
        if self.tok.kind is T.LBRACKET:
            if not isinstance(node, ast.VectorSelector):
                raise self.error("ranges are only allowed on vector selectors")
            self.advance()
            rng = self.parse_duration()
            if self.tok.kind is T.COLON:
                raise self.error("subqueries are not supported by this controller version")
            self.expect(T.RBRACKET, "']'")
            node = ast.MatrixSelector(node, rng)
        if self.tok.kind is T.IDENT and self.tok.text == "offset":
            self.advance()
            neg = False
            if self.tok.kind is T.OP and self.tok.text == "-":
                neg = True
                self.advance()
            off = self.parse_duration()
            off = -off if neg else off
            if isinstance(node, ast.VectorSelector):
                node = ast.VectorSelector(node.name, node.matchers, off)
            elif isinstance(node, ast.MatrixSelector):
                node = ast.MatrixSelector(
                    ast.VectorSelector(node.vector.name, node.vector.matchers, off), node.range_ms
                )
            else:
                raise self.error("offset is only allowed on selectors")
        return node

    def parse_duration(self) -> int:
        t = self.tok
        if t.kind is not T.DURATION:
            raise self.error(f"expected a duration such as 5m, found {self._describe(t)}")
        self.advance()
        try:
            ms = parse_duration_ms(t.text)
        except DurationError as exc:
            raise self.error(str(exc), t) from None
        if ms <= 0:
            raise self.error("duration must be greater than 0", t)
        return ms


def _number(text: str) -> float:
    low = text.lower()
    if low.startswith("0x"):
        return float(int(low, 16))
    return float(low)


def parse(expr: str) -> ast.Expr:
    """Parse ``expr``.

    :raises PromQLError: ``LINE:COL: what was expected``.
    """
    return Parser(expr).parse()
