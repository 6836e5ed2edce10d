"""A tiny, safe evaluator for estimate formulas such as ``"dau * requests_per_user / 86_400"``.

The formula text is both what a learner reads and what is computed, so the printed chain of
reasoning cannot drift from the numbers. Only arithmetic is allowed: numbers, names, ``+ - * / // **``,
unary minus, parentheses and the functions in ``FUNCTIONS``. Anything else (attributes, subscripts,
comparisons, other calls) raises ``ValueError`` when the formula is compiled, never at evaluation.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

__all__ = ["FUNCTIONS", "Formula"]

FUNCTIONS: dict[str, Callable[..., float]] = {
    "ceil": math.ceil,
    "floor": math.floor,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
}

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}


class Formula:
    """A compiled arithmetic expression; ``names`` are the variables it reads."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"formula must be a non-empty string, got {text!r}")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"formula {text!r} is not valid arithmetic: {exc.msg}") from None
        self.text = text.strip()
        self._tree = tree.body
        self.names: frozenset[str] = frozenset(self._validate(self._tree))

    def _validate(self, node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            return set()
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ValueError(f"formula {self.text!r} uses the function {node.id!r} as a variable")
            return {node.id}
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._validate(node.left) | self._validate(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self._validate(node.operand)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
            and node.args
        ):
            names: set[str] = set()
            for arg in node.args:
                names |= self._validate(arg)
            return names
        raise ValueError(
            f"formula {self.text!r} may only use numbers, names, + - * / // **, parentheses and "
            f"{', '.join(FUNCTIONS)}; found {ast.dump(node)[:40]}"
        )

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value; a name missing from ``values`` raises ``KeyError`` naming it."""
        missing = sorted(self.names - set(values))
        if missing:
            raise KeyError(f"formula {self.text!r} needs {', '.join(missing)}")
        return float(self._eval(self._tree, values))

    def _eval(self, node: ast.AST, values: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            return node.value  # type: ignore[no-any-return]
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values)
            return -operand if isinstance(node.op, ast.USub) else operand
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return FUNCTIONS[node.func.id](*(self._eval(a, values) for a in node.args))

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"
