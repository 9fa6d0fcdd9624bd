"""Go's ``text/template`` language, as Prometheus runs alert templates:
:func:`parse` (with Go's parse-time checks of functions and variables) and
:func:`execute` (Go's semantics and messages), over the values of
:mod:`.values`, printing as Go's ``fmt`` prints (:mod:`.gofmt`)."""

from switchman.controller.alerts.gotemplate.execute import BUILTINS, ExecError, execute
from switchman.controller.alerts.gotemplate.parser import ParseError, Tree, parse
from switchman.controller.alerts.gotemplate.values import HTML, AnyMap, Func, FuncError, Opaque, StrMap, Struct, Vector

__all__ = [
    "BUILTINS",
    "HTML",
    "AnyMap",
    "ExecError",
    "Func",
    "FuncError",
    "Opaque",
    "ParseError",
    "StrMap",
    "Struct",
    "Tree",
    "Vector",
    "execute",
    "parse",
]
