from __future__ import annotations


class PromQLError(ValueError):
    """A parse or evaluation error; ``pos`` is the 0-based offset in the expression."""

    def __init__(self, message: str, pos: int | None = None, expr: str = "") -> None:
        self.pos = pos
        self.expr = expr
        where = ""
        if pos is not None:
            line = expr.count("\n", 0, pos) + 1
            col = pos - (expr.rfind("\n", 0, pos) + 1) + 1
            where = f"{line}:{col}: "
        super().__init__(f"{where}{message}")
        self.bare = message
