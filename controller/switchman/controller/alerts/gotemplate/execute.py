"""Go ``text/template`` execution: walking the tree with dot and variables,
field and map access (``missingkey=zero``), function calls with Go's
argument checks, the builtin functions (``and or not len index slice eq ne
lt le gt ge print printf println html js urlquery``), and Go's error messages
(``template: NAME:LINE:COL: executing "NAME" at <node>: ...``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from switchman.controller.alerts.gotemplate import gofmt
from switchman.controller.alerts.gotemplate import nodes as n
from switchman.controller.alerts.gotemplate.parser import Tree
from switchman.controller.alerts.gotemplate.values import (
    HTML,
    AnyMap,
    Func,
    FuncError,
    StrMap,
    Struct,
    Vector,
    kind,
    truth,
    type_name,
)


class ExecError(Exception):
    """An execution error, with Go's full message."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_MISSING = object()
_NILABLE = {"any", "map[string]string", "map[string]interface {}", "template.queryResult", "*template.sample"}


@dataclass
class _State:
    trees: Mapping[str, Tree]
    funcs: Mapping[str, Func]
    parse_name: str
    name: str
    vars: list[tuple[str, object]]
    out: list[str] = field(default_factory=list)
    node: n.Node | None = None

    # errors -------------------------------------------------------------
    def at(self, node: n.Node) -> None:
        self.node = node

    def error(self, msg: str) -> ExecError:
        if self.node is None:
            return ExecError(f"template: {self.name}: {msg}")
        text = self.trees[self.parse_name].text[: self.node.pos]
        line = 1 + text.count("\n")
        col = self.node.pos - (text.rfind("\n") + 1) if "\n" in text else self.node.pos
        return ExecError(f'template: {self.parse_name}:{line}:{col}: executing "{self.name}" at <{self.node}>: {msg}')

    # walking ------------------------------------------------------------
    def walk(self, dot: object, node: n.Node) -> None:
        if isinstance(node, n.Text):
            self.out.append(node.text)
        elif isinstance(node, n.Action):
            val = self.pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append("<no value>" if val is None else gofmt.value(val))
        elif isinstance(node, n.ListNode):
            for x in node.nodes:
                self.walk(dot, x)
        elif isinstance(node, n.Branch):
            if node.kind == "range":
                self.range(dot, node)
            else:
                self.if_or_with(dot, node)
        elif isinstance(node, n.TemplateCall):
            self.template(dot, node)
        elif isinstance(node, n.Break):
            raise _Break
        elif isinstance(node, n.Continue):
            raise _Continue

    def if_or_with(self, dot: object, node: n.Branch) -> None:
        mark = len(self.vars)
        val = self.pipeline(dot, node.pipe)
        if truth(val):
            self.walk(val if node.kind == "with" else dot, node.body)
        elif node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[mark:]

    def range(self, dot: object, node: n.Branch) -> None:
        outer = len(self.vars)
        val = self.pipeline(dot, node.pipe)
        mark = len(self.vars)
        items: list[tuple[object, object]]
        if val is None:
            items = []
        elif isinstance(val, dict):
            items = sorted(val.items())
        elif isinstance(val, Vector):
            items = list(enumerate(val.samples))
        elif isinstance(val, list):
            items = list(enumerate(val))
        else:
            raise self.error(f"range can't iterate over {gofmt.value(val)}")
        for key, elem in items:
            if node.pipe.decl:
                self.vars[-1] = (self.vars[-1][0], elem)
            if len(node.pipe.decl) > 1:
                self.vars[-2] = (self.vars[-2][0], key)
            try:
                self.walk(elem, node.body)
            except _Continue:
                pass
            except _Break:
                del self.vars[mark:]
                break
            del self.vars[mark:]
        if not items and node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[outer:]

    def template(self, dot: object, node: n.TemplateCall) -> None:
        self.at(node)
        tree = self.trees.get(node.name)
        if tree is None:
            raise self.error(f'template "{node.name}" not defined')
        value = self.pipeline(dot, node.pipe) if node.pipe is not None else None
        inner = _State(self.trees, self.funcs, self.parse_name, node.name, [("$", value)], self.out)
        try:
            inner.walk(value, tree.root)
        except RecursionError:
            raise self.error("exceeded maximum template depth (100000)") from None

    # pipelines ----------------------------------------------------------
    def pipeline(self, dot: object, pipe: n.Pipe) -> object:
        self.at(pipe)
        value: object = _MISSING
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for v in pipe.decl:
            if pipe.is_assign:
                self.set_var(v.idents[0], value)
            else:
                self.vars.append((v.idents[0], value))
        return value

    def set_var(self, name: str, value: object) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def var(self, name: str) -> object:
        for k, v in reversed(self.vars):
            if k == name:
                return v
        raise self.error(f"undefined variable: {name}")

    def not_a_function(self, args: list[n.Node], final: object) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def command(self, dot: object, cmd: n.Command, final: object) -> object:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            self.at(first)
            return self.field_chain(dot, dot, first.idents, cmd.args, final)
        if isinstance(first, n.Chain):
            return self.chain(dot, first, cmd.args, final)
        if isinstance(first, n.Identifier):
            return self.function(dot, first, cmd, cmd.args, final)
        if isinstance(first, n.Pipe):
            self.not_a_function(cmd.args, final)
            return self.pipeline(dot, first)
        if isinstance(first, n.Variable):
            return self.variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.Bool):
            return first.value
        if isinstance(first, n.Dot):
            return dot
        if isinstance(first, n.Nil):
            raise self.error("nil is not a command")
        if isinstance(first, n.Number):
            return self.ideal(first)
        if isinstance(first, n.String):
            return first.text
        raise self.error(f"can't evaluate command {first}")

    def ideal(self, num: n.Number) -> object:
        hex_int = num.text.lower().lstrip("+-").startswith("0x")
        if num.is_float and not num.is_char and not hex_int and any(c in num.text for c in ".eEpP"):
            return num.float_val
        if num.is_int:
            return num.int_val
        raise self.error(f"{num} overflows int")

    def variable(self, dot: object, v: n.Variable, args: list[n.Node], final: object) -> object:
        self.at(v)
        value = self.var(v.idents[0])
        if len(v.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.field_chain(dot, value, v.idents[1:], args, final)

    def chain(self, dot: object, c: n.Chain, args: list[n.Node], final: object) -> object:
        self.at(c)
        if isinstance(c.node, n.Nil):
            raise self.error(f"indirection through explicit nil in {c}")
        value = self.arg(dot, None, c.node)
        return self.field_chain(dot, value, c.fields, args, final)

    def field_chain(
        self, dot: object, receiver: object, idents: list[str], args: list[n.Node], final: object
    ) -> object:
        for name in idents[:-1]:
            receiver = self.field(name, receiver, [], _MISSING)
        return self.field(idents[-1], receiver, args, final)

    def field(self, name: str, receiver: object, args: list[n.Node], final: object) -> object:
        if receiver is None:
            return None
        has_args = len(args) > 1 or final is not _MISSING
        if isinstance(receiver, Struct):
            if name in receiver.fields:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return receiver.fields[name]
        elif isinstance(receiver, StrMap | AnyMap):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            return receiver.get(name, receiver.zero)
        type_desc = type_name(receiver).removeprefix("*")
        raise self.error(f"can't evaluate field {name} in type {type_desc}")

    # calls --------------------------------------------------------------
    def function(self, dot: object, ident: n.Identifier, cmd: n.Command, args: list[n.Node], final: object) -> object:
        self.at(ident)
        name = ident.name
        rest = args[1:]
        if name in ("and", "or"):
            return self.and_or(dot, name, rest, final)
        fn = self.funcs.get(name) or BUILTINS.get(name)
        if fn is None:
            raise self.error(f'"{name}" is not a defined function')
        given = len(rest) + (final is not _MISSING)
        fixed = len(fn.params) - 1 if fn.variadic else len(fn.params)
        if fn.variadic and given < fixed:
            raise self.error(f"wrong number of args for {name}: want at least {fixed} got {len(rest)}")
        if not fn.variadic and given != fixed:
            raise self.error(f"wrong number of args for {name}: want {fixed} got {given}")
        argv: list[object] = []
        for i, a in enumerate(rest):
            typ = fn.params[min(i, len(fn.params) - 1)]
            argv.append(self.arg(dot, typ, a))
        if final is not _MISSING:
            typ = fn.params[min(len(rest), len(fn.params) - 1)]
            argv.append(self.validate(final, typ))
        try:
            return fn.call(*argv)
        except FuncError as exc:
            self.at(cmd)
            raise self.error(f"error calling {name}: {exc}") from None

    def and_or(self, dot: object, name: str, rest: list[n.Node], final: object) -> object:
        if not rest and final is _MISSING:
            raise self.error(f"wrong number of args for {name}: want at least 1 got 0")
        val: object = None
        for a in rest:
            val = self.arg(dot, "any", a)
            if truth(val) == (name == "or"):
                return val
        if final is not _MISSING:
            val = final
        return val

    def arg(self, dot: object, typ: str | None, node: n.Node) -> object:
        self.at(node)
        if isinstance(node, n.Dot):
            return self.validate(dot, typ)
        if isinstance(node, n.Nil):
            if typ is None or typ in _NILABLE:
                return None
            raise self.error(f"cannot assign nil to {typ}")
        if isinstance(node, n.FieldNode):
            return self.validate(self.field_chain(dot, dot, node.idents, [node], _MISSING), typ)
        if isinstance(node, n.Variable):
            return self.validate(self.variable(dot, node, [], _MISSING), typ)
        if isinstance(node, n.Pipe):
            return self.validate(self.pipeline(dot, node), typ)
        if isinstance(node, n.Identifier):
            return self.validate(self.function(dot, node, n.Command(node.pos, [node]), [node], _MISSING), typ)
        if isinstance(node, n.Chain):
            return self.validate(self.chain(dot, node, [], _MISSING), typ)
        if typ in (None, "any"):
            if isinstance(node, n.Bool):
                return node.value
            if isinstance(node, n.Number):
                return self.ideal(node)
            if isinstance(node, n.String):
                return node.text
        if typ == "string":
            if isinstance(node, n.String):
                return node.text
            raise self.error(f"expected string; found {node}")
        if typ == "float64":
            if isinstance(node, n.Number) and node.is_float:
                return node.float_val
            raise self.error(f"expected float; found {node}")
        if typ == "int":
            if isinstance(node, n.Number) and node.is_int:
                return node.int_val
            raise self.error(f"expected integer; found {node}")
        if typ == "bool":
            if isinstance(node, n.Bool):
                return node.value
            raise self.error(f"expected bool; found {node}")
        raise self.error(f"can't handle {node} for arg of type {typ}")

    def validate(self, value: object, typ: str | None) -> object:
        if typ is None or typ == "any":
            return value
        if value is None:
            if typ in _NILABLE:
                return None
            raise self.error(f"invalid value; expected {typ}")
        got = type_name(value)
        if got != typ:
            raise self.error(f"wrong type for value; expected {typ}; got {got}")
        return value


# builtins ---------------------------------------------------------------
def _basic(v: object) -> str:
    k = kind(v)
    if k in ("bool", "int", "float", "string"):
        return k
    raise FuncError("invalid type for comparison")


def _eq(a: object, *bs: object) -> bool:
    if not bs:
        raise FuncError("missing argument for comparison")
    ka = kind(a)
    for b in bs:
        kb = kind(b)
        if ka != kb:
            if a is not None and b is not None:
                raise FuncError("incompatible types for comparison")
        elif ka in ("bool", "int", "float", "string"):
            if a == b:
                return True
        elif ka == "invalid":
            return True
        else:
            raise FuncError(f"non-comparable types {gofmt.value(a)}: {type_name(a)}, {type_name(b)}: {gofmt.value(b)}")
    return False


def _lt(a: object, b: object) -> bool:
    ka, kb = _basic(a), _basic(b)
    if ka != kb:
        raise FuncError("incompatible types for comparison")
    if ka == "bool":
        raise FuncError("invalid type for comparison")
    return bool(a < b)  # type: ignore[operator]  # same basic kind: comparable


def _le(a: object, b: object) -> bool:
    return _lt(a, b) or _eq(a, b)


def _len(v: object) -> int:
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, dict | list):
        return len(v)
    if isinstance(v, Vector):
        return len(v.samples)
    raise FuncError(f"len of type {type_name(v)}")


def _index(item: object, *keys: object) -> object:
    if item is None:
        raise FuncError("index of untyped nil")
    for k in keys:
        if isinstance(item, StrMap | AnyMap):
            if not isinstance(k, str) or isinstance(k, HTML):
                raise FuncError(f"value has type {type_name(k)}; should be string")
            item = item.get(k, item.zero)
        elif isinstance(item, list | Vector | str):
            seq = item.samples if isinstance(item, Vector) else item
            if isinstance(k, bool) or not isinstance(k, int):
                raise FuncError(f"cannot index slice/array with type {type_name(k)}")
            if not 0 <= k < len(seq):
                raise FuncError(f"index out of range: {k}")
            item = seq[k] if not isinstance(seq, str) else seq.encode()[k]
        elif item is None:
            raise FuncError("index of untyped nil")
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: object, *idx: object) -> object:
    if not isinstance(item, str):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    bounds = [int(i) for i in idx if isinstance(i, int)]
    data = item.encode()
    lo = bounds[0] if bounds else 0
    hi = bounds[1] if len(bounds) > 1 else len(data)
    if not 0 <= lo <= hi <= len(data):
        raise FuncError(f"index out of range: {hi}")
    return data[lo:hi].decode(errors="replace")


def _printable(args: tuple[object, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str) and not isinstance(args[0], HTML):
        return args[0]
    return gofmt.sprint(list(args))


def _not_builtin(*_: object) -> object:
    raise FuncError("and/or are evaluated by the executor")


def _call(*_: object) -> object:
    raise FuncError("call of a non-function")


BUILTINS: dict[str, Func] = {
    "and": Func(("any", "any"), _not_builtin, True),
    "or": Func(("any", "any"), _not_builtin, True),
    "not": Func(("any",), lambda v: not truth(v)),
    "len": Func(("any",), _len),
    "index": Func(("any", "any"), _index, True),
    "slice": Func(("any", "any"), _slice, True),
    "call": Func(("any", "any"), _call, True),
    "eq": Func(("any", "any"), _eq, True),
    "ne": Func(("any", "any"), lambda a, b: not _eq(a, b)),
    "lt": Func(("any", "any"), _lt),
    "le": Func(("any", "any"), _le),
    "gt": Func(("any", "any"), lambda a, b: not _le(a, b)),
    "ge": Func(("any", "any"), lambda a, b: not _lt(a, b)),
    "print": Func(("any",), lambda *a: gofmt.sprint(list(a)), True),
    "println": Func(("any",), lambda *a: gofmt.sprintln(list(a)), True),
    "printf": Func(("string", "any"), lambda f, *a: gofmt.sprintf(f, list(a)), True),
    "html": Func(("any",), lambda *a: gofmt.html_escape(_printable(a)), True),
    "js": Func(("any",), lambda *a: gofmt.js_escape(_printable(a)), True),
    "urlquery": Func(("any",), lambda *a: gofmt.query_escape(_printable(a)), True),
}


def execute(trees: Mapping[str, Tree], name: str, funcs: Mapping[str, Func], data: object) -> str:
    """Run template ``name`` of ``trees`` with ``data`` as dot.

    :raises ExecError: with Go's message.
    """
    state = _State(trees, funcs, name, name, [("$", data)])
    try:
        state.walk(data, trees[name].root)
    except RecursionError:
        raise state.error("exceeded maximum template depth (100000)") from None
    return "".join(state.out)
