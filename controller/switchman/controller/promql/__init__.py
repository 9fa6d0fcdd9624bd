"""A subset of PromQL (SPEC 4.2): lexer -> parser (AST) -> evaluator over the store.

Grown step by step: this version parses number and string literals,
instant and range vector selectors with the four matchers, ``offset`` and
parentheses, and evaluates instant and range queries with Prometheus'
5 minute lookback.
"""

from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.parser import parse

__all__ = ["PromQLError", "parse"]
