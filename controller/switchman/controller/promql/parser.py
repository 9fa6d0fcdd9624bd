# mypy: disable-error-code="comparison-overlap"
# (mypy narrows self.tok.kind across advance(), which moves to the next token)
"""Recursive-descent PromQL parser producing :mod:`~switchman.controller.promql.ast` nodes.

Every error names the position and what was expected.
"""

from __future__ import annotations

import dataclasses
import math

from switchman.controller.promql import ast
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.lexer import T, Token, tokenize
from switchman.proto.durations import DurationError, parse_duration_ms

# the grammar's metric_identifier takes the aggregation keywords, by, without, offset,
# and, or, unless, start and end, but never these
_NOT_METRIC_NAMES = frozenset(("on", "ignoring", "group_left", "group_right", "bool", "atan2", "inf", "nan"))
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

    def _keyword(self, *words: str) -> bool:
        """The current token is one of ``words`` (keywords are case-insensitive)."""
        return self.tok.kind is T.IDENT and self.tok.text.lower() in words

    @staticmethod
    def _describe(t: Token) -> str:
        return "end of input" if t.kind is T.EOF else f"{t.kind.value} {t.text!r}"

    # grammar ---------------------------------------------------------------
    def parse(self) -> ast.Expr:
        if self.tok.kind is T.EOF:
            raise self.error("empty expression")
        node = self.parse_expr()
        if self.tok.kind is not T.EOF:
            raise self.error(f"unexpected {self._describe(self.tok)} after a complete expression")
        return node

    def _binary_op(self) -> str | None:
        t = self.tok
        if t.kind is T.OP and t.text in PRECEDENCE:
            return t.text
        if t.kind is T.IDENT and t.text.lower() in ("and", "or", "unless", "atan2"):
            return t.text.lower()
        return None

    def parse_expr(self, min_prec: int = 0) -> ast.Expr:
        lhs = self.parse_unary()
        while True:
            op = self._binary_op()
            if op is None or PRECEDENCE[op] < min_prec:
                return lhs
            op_tok = self.advance()
            return_bool = False
            if self._keyword("bool"):
                if op not in COMPARISONS:
                    raise self.error("bool modifier can only be used on comparison operators")
                self.advance()
                return_bool = True
            matching = self.parse_matching(op)
            next_min = PRECEDENCE[op] if op == "^" else PRECEDENCE[op] + 1  # ^ is right-associative
            rhs = self.parse_expr(next_min)
            lhs = self.check_binary(ast.Binary(op, lhs, rhs, return_bool, matching), op_tok)

    def parse_matching(self, op: str) -> ast.VectorMatching | None:
        if not self._keyword("on", "ignoring"):
            return ast.VectorMatching(card="many-to-many") if op in SET_OPS else None
        on = self.advance().text.lower() == "on"
        labels = self.parse_label_list()
        card = "many-to-many" if op in SET_OPS else "one-to-one"
        include: tuple[str, ...] = ()
        if self._keyword("group_left", "group_right"):
            if op in SET_OPS:
                raise self.error(f"no grouping allowed for {op!r} operation")
            card = "many-to-one" if self.advance().text.lower() == "group_left" else "one-to-many"
            include = self.parse_label_list() if self.tok.kind is T.LPAREN else ()
        return ast.VectorMatching(on, labels, card, include)

    def parse_label_list(self) -> tuple[str, ...]:
        self.expect(T.LPAREN, "'(' and a list of label names")
        names: list[str] = []
        while self.tok.kind is not T.RPAREN:
            names.append(self.expect(T.IDENT, "a label name").text)
            if self.tok.kind is T.COMMA:
                self.advance()
            elif self.tok.kind is not T.RPAREN:
                raise self.error(f"expected ',' or ')' in a label list, found {self._describe(self.tok)}")
        self.advance()
        return tuple(names)

    def check_binary(self, node: ast.Binary, tok: Token) -> ast.Binary:
        lt, rt = value_type(node.lhs), value_type(node.rhs)
        if "matrix" in (lt, rt) or "string" in (lt, rt):
            raise self.error("binary expression must contain only scalar and instant vector types", tok)
        if node.op in SET_OPS and "scalar" in (lt, rt):
            raise self.error(f"set operator {node.op!r} not allowed in binary scalar expression", tok)
        if node.op in COMPARISONS and lt == rt == "scalar" and not node.return_bool:
            raise self.error("comparisons between scalars must use BOOL modifier", tok)
        if (
            node.matching is not None
            and node.op not in SET_OPS
            and "scalar" in (lt, rt)
            and (node.matching.labels or node.matching.card != "one-to-one")
        ):
            raise self.error("vector matching only allowed between instant vectors", tok)
        return node

    def parse_unary(self) -> ast.Expr:
        t = self.tok
        if t.kind is T.OP and t.text in ("-", "+"):
            self.advance()
            inner = self.parse_expr(PRECEDENCE["^"])  # binds looser than ^: -2^2 is -4
            if isinstance(inner, ast.NumberLiteral):
                return ast.NumberLiteral(-inner.value if t.text == "-" else inner.value)
            if value_type(inner) not in ("scalar", "vector"):
                raise self.error("unary expression only allowed on expressions of type scalar or instant vector", t)
            return ast.Unary(t.text, inner) if t.text == "-" else inner
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> ast.Expr:
        t = self.tok
        if t.kind is T.NUMBER:
            self.advance()
            return ast.NumberLiteral(_number(t.text))
        if t.kind is T.STRING:
            self.advance()
            return ast.StringLiteral(t.text)
        if t.kind is T.LPAREN:
            self.advance()
            inner = self.parse_expr()
            self.expect(T.RPAREN, "')'")
            return ast.Paren(inner)
        if t.kind is T.IDENT and t.text.lower() in ("inf", "nan") and self.toks[self.i + 1].kind is not T.LBRACE:
            self.advance()
            return ast.NumberLiteral(float(t.text))
        if t.kind is T.IDENT and t.text.lower() in AGGREGATIONS and self.toks[self.i + 1].kind in (T.LPAREN, T.IDENT):
            return self.parse_aggregate()
        if t.kind is T.IDENT and self.toks[self.i + 1].kind is T.LPAREN:
            return self.parse_call()
        if t.kind is T.IDENT:
            if t.text.lower() in _NOT_METRIC_NAMES:  # keywords the grammar never takes as a metric name
                raise self.error(f"unexpected <{t.text.lower()}>", t)
            self.advance()
            matchers: list[ast.Matcher] = [ast.Matcher.make("__name__", ast.MatchOp.EQ, t.text)]
            if self.tok.kind is T.LBRACE:
                given = self.parse_matchers()
                if (again := next((m.value for m in given if m.name == "__name__"), None)) is not None:
                    raise self.error(f"metric name must not be set twice: {t.text!r} or {again!r}", t)
                matchers += given
            return ast.VectorSelector(t.text, tuple(matchers))
        if t.kind is T.LBRACE:
            matchers = self.parse_matchers()
            if not any(not m.matches("") for m in matchers):
                raise self.error("vector selector must contain at least one non-empty matcher", t)
            name = next((m.value for m in matchers if m.name == "__name__" and m.op is ast.MatchOp.EQ), None)
            return ast.VectorSelector(name, tuple(matchers))
        raise self.error(f"expected an expression (a number, a string, a selector or '('), found {self._describe(t)}")

    def parse_aggregate(self) -> ast.Aggregate:
        op_tok = self.advance()
        op = op_tok.text.lower()
        grouping: tuple[str, ...] = ()
        without = False
        if self._keyword("by", "without"):
            without = self.advance().text.lower() == "without"
            grouping = self.parse_label_list()
        self.expect(T.LPAREN, "'('")
        param: ast.Expr | None = None
        if op in PARAM_AGGREGATIONS:
            param = self.parse_expr()
            self.expect(T.COMMA, "',' after the aggregation's parameter")
        expr = self.parse_expr()
        self.expect(T.RPAREN, "')'")
        if self._keyword("by", "without"):
            if grouping or without:
                raise self.error("grouping given twice")
            without = self.advance().text.lower() == "without"
            grouping = self.parse_label_list()
        if value_type(expr) != "vector":
            raise self.error(f"expected type instant vector in aggregation expression, got {value_type(expr)}", op_tok)
        if param is not None and op != "count_values" and value_type(param) != "scalar":
            raise self.error(f"expected type scalar in aggregation parameter, got {value_type(param)}", op_tok)
        if param is not None and op == "count_values" and value_type(param) != "string":
            raise self.error(f"expected type string in aggregation parameter, got {value_type(param)}", op_tok)
        return ast.Aggregate(op, expr, param, grouping, without)

    def parse_call(self) -> ast.Call:
        name_tok = self.advance()
        sig = FUNCTIONS.get(name_tok.text)
        if sig is None:
            raise self.error(f"unknown function with name {name_tok.text!r}", name_tok)
        self.expect(T.LPAREN, "'('")
        args: list[ast.Expr] = []
        while self.tok.kind is not T.RPAREN:
            args.append(self.parse_expr())
            if self.tok.kind is T.COMMA:
                self.advance()
            elif self.tok.kind is not T.RPAREN:
                raise self.error(
                    f"expected ',' or ')' in the arguments of {name_tok.text}, found {self._describe(self.tok)}"
                )
        self.advance()
        arg_types, _, optional = sig
        fewest = len(arg_types) - (1 if optional < 0 else optional)
        most = len(args) if optional < 0 else len(arg_types)
        if not fewest <= len(args) <= most:
            raise self.error(
                f"expected {len(arg_types)} argument(s) in call to {name_tok.text!r}, got {len(args)}", name_tok
            )
        if optional < 0:
            arg_types = arg_types + arg_types[-1:] * (len(args) - len(arg_types))
        for i, (want, arg) in enumerate(zip(arg_types, args, strict=False)):
            got = value_type(arg)
            if got != want:
                raise self.error(
                    f"expected type {TYPE_NAMES[want]} in call to function {name_tok.text!r}, got {TYPE_NAMES[got]}"
                    + f" (argument {i + 1})",
                    name_tok,
                )
        return ast.Call(name_tok.text, tuple(args))

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
        """Ranges, subqueries, ``offset`` and ``@`` after a primary expression."""
        while True:
            if self.tok.kind is T.LBRACKET:
                node = self.parse_range(node)
            elif self._keyword("offset"):
                node = self.parse_offset(node)
            elif self.tok.kind is T.AT:
                node = self.parse_at(node)
            else:
                return node

    def parse_range(self, node: ast.Expr) -> ast.Expr:
        bracket = self.advance()
        rng = self.parse_duration()
        if self.tok.kind is T.COLON:
            self.advance()
            step = self.parse_duration() if self.tok.kind is T.DURATION else 0
            self.expect(T.RBRACKET, "']'")
            if value_type(node) != "vector":
                got = TYPE_NAMES[value_type(node)]
                raise self.error(f"subquery is only allowed on instant vector, got {got} instead", bracket)
            return ast.Subquery(node, rng, step)
        self.expect(T.RBRACKET, "']' or ':' and a subquery step")
        if not isinstance(node, ast.VectorSelector):
            raise self.error("ranges only allowed for vector selectors", bracket)
        if node.offset_ms:
            raise self.error("no offset modifiers allowed before range", bracket)
        if node.at is not None:
            raise self.error("no @ modifiers allowed before range", bracket)
        return ast.MatrixSelector(node, rng)

    def parse_offset(self, node: ast.Expr) -> ast.Expr:
        word = self.advance()
        sign = 1
        if self.tok.kind is T.OP and self.tok.text in ("-", "+"):
            sign = -1 if self.advance().text == "-" else 1
        off = sign * self.parse_duration()
        target = node.vector if isinstance(node, ast.MatrixSelector) else node
        if not isinstance(target, ast.VectorSelector | ast.Subquery):
            raise self.error(
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                word,
            )
        if target.offset_ms:
            raise self.error("offset may not be set multiple times", word)
        return self._modified(node, dataclasses.replace(target, offset_ms=off))

    def parse_at(self, node: ast.Expr) -> ast.Expr:
        at_tok = self.advance()
        at = self.parse_at_time()
        target = node.vector if isinstance(node, ast.MatrixSelector) else node
        if not isinstance(target, ast.VectorSelector | ast.Subquery):
            raise self.error(
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                at_tok,
            )
        if target.at is not None:
            raise self.error("@ <timestamp> may not be set multiple times", at_tok)
        return self._modified(node, dataclasses.replace(target, at=at))

    def parse_at_time(self) -> ast.At:
        t = self.tok
        if self._keyword("start", "end"):
            self.advance()
            self.expect(T.LPAREN, "'(' after " + t.text)
            self.expect(T.RPAREN, "')'")
            return ast.At(anchor=t.text.lower())
        sign = 1.0
        if t.kind is T.OP and t.text in ("-", "+"):
            sign = -1.0 if self.advance().text == "-" else 1.0
        num = self.tok
        if num.kind is T.NUMBER or (num.kind is T.IDENT and num.text.lower() in ("inf", "nan")):
            self.advance()
            seconds = sign * _number(num.text)
            if not math.isfinite(seconds) or abs(seconds) * 1000 > 2**63 - 1:
                raise self.error("timestamp out of bounds for @ modifier", t)
            return ast.At(ms=int(math.copysign(math.floor(abs(seconds) * 1000 + 0.5), seconds)))
        raise self.error(f"expected a timestamp, start() or end() after @, found {self._describe(num)}")

    @staticmethod
    def _modified(node: ast.Expr, target: ast.VectorSelector | ast.Subquery) -> ast.Expr:
        if isinstance(node, ast.MatrixSelector):
            assert isinstance(target, ast.VectorSelector)
            return ast.MatrixSelector(target, node.range_ms)
        return target

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


PRECEDENCE = {
    "or": 1, "and": 2, "unless": 2,
    "==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3, "<=": 3,
    "+": 4, "-": 4,
    "*": 5, "/": 5, "%": 5, "atan2": 5,
    "^": 6,
}  # fmt: skip
COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})
AGGREGATIONS = frozenset(
    {"sum", "avg", "min", "max", "count", "topk", "bottomk", "quantile", "stddev", "stdvar", "group", "count_values"}
)
PARAM_AGGREGATIONS = frozenset({"topk", "bottomk", "quantile", "count_values"})
TYPE_NAMES = {"scalar": "scalar", "vector": "instant vector", "matrix": "range vector", "string": "string"}
# name -> (argument types, return type, how many trailing arguments are optional;
# -1: the last may be left out or repeated)
FUNCTIONS: dict[str, tuple[tuple[str, ...], str, int]] = {
    **{f: (("matrix",), "vector", 0) for f in (
        "rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets",
        "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
        "last_over_time", "stddev_over_time", "stdvar_over_time", "absent_over_time", "present_over_time",
    )},
    "quantile_over_time": (("scalar", "matrix"), "vector", 0),
    "predict_linear": (("matrix", "scalar"), "vector", 0),
    **{f: (("vector",), "vector", 0) for f in (
        "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sgn", "absent",
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "deg", "rad", "sort", "sort_desc", "timestamp", "histogram_count", "histogram_sum",
    )},
    **{f: (("vector",), "vector", 1) for f in (
        "year", "month", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute",
    )},
    "label_replace": (("vector", "string", "string", "string", "string"), "vector", 0),
    "label_join": (("vector", "string", "string", "string"), "vector", -1),
    "histogram_fraction": (("scalar", "scalar", "vector"), "vector", 0),
    "holt_winters": (("matrix", "scalar", "scalar"), "vector", 0),
    "pi": ((), "scalar", 0),
    "round": (("vector", "scalar"), "vector", 1),
    "clamp": (("vector", "scalar", "scalar"), "vector", 0),
    "clamp_min": (("vector", "scalar"), "vector", 0),
    "clamp_max": (("vector", "scalar"), "vector", 0),
    "histogram_quantile": (("scalar", "vector"), "vector", 0),
    "scalar": (("vector",), "scalar", 0),
    "vector": (("scalar",), "vector", 0),
    "time": ((), "scalar", 0),
}  # fmt: skip


def value_type(node: ast.Expr) -> str:
    """The static type of an expression: scalar, vector, matrix or string."""
    if isinstance(node, ast.NumberLiteral):
        return "scalar"
    if isinstance(node, ast.StringLiteral):
        return "string"
    if isinstance(node, ast.VectorSelector | ast.Aggregate):
        return "vector"
    if isinstance(node, ast.MatrixSelector | ast.Subquery):
        return "matrix"
    if isinstance(node, ast.Paren | ast.Unary):
        return value_type(node.expr)
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func][1]
    if isinstance(node, ast.Binary):
        return "scalar" if value_type(node.lhs) == value_type(node.rhs) == "scalar" else "vector"
    return "vector"


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
