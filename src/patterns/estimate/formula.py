"""A tiny, safe evaluator for estimate formulas such as ``"dau * requests_per_user / 86_400"``.

The formula text is both what a learner reads and what is computed, so the printed chain of
reasoning cannot drift from the numbers. Only arithmetic is allowed: numbers, names, ``+ - * / // **``,
unary minus, parentheses and the functions in ``FUNCTIONS``. Anything else (attributes, subscripts,
comparisons, other calls) raises ``ValueError`` when the formula is compiled, never at evaluation.

Arithmetic is done in floating point, so ``9**9**9`` overflows at once (``ValueError``) instead of
building a 370-million-digit integer; any result that is not a finite number is a ``ValueError``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

from patterns._validate import require_mapping, require_number, require_text

__all__ = ["FUNCTIONS", "Formula", "MAX_LENGTH"]

MAX_LENGTH = 1_000  # characters: a formula is something a learner reads

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
        text = require_text(text, "formula text", max_length=MAX_LENGTH).strip()
        if not text:
            raise ValueError("formula must be a non-empty string, got only spaces")
        try:
            tree = ast.parse(text, mode="eval")
            self.text = text
            self._tree = tree.body
            self.names: frozenset[str] = frozenset(self._validate(self._tree))
        except SyntaxError as exc:
            raise ValueError(f"formula {text!r} is not valid arithmetic: {exc.msg}") from None
        except (RecursionError, MemoryError):
            raise ValueError(f"formula {text[:40]!r}... is nested too deeply") from None

    def _validate(self, node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            if not math.isfinite(float(node.value)):
                raise ValueError(f"formula {self.text!r} has a number too large for a float: {self.text[:40]}")
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
        """The formula's value; a name missing from ``values`` raises ``KeyError`` naming it.

        Raises ``ValueError`` when a value is not a finite number or the arithmetic fails
        (division by zero, overflow, ``log`` of a negative number): an estimate cannot use it.
        """
        values = require_mapping(values, "values")
        missing = sorted(self.names - set(values))
        if missing:
            raise KeyError(f"formula {self.text!r} needs {', '.join(missing)}")
        numbers = {name: require_number(values[name], name) for name in self.names}
        try:
            result = float(self._eval(self._tree, numbers))
        except (ArithmeticError, ValueError) as exc:  # ZeroDivisionError, OverflowError, math domain
            raise ValueError(f"formula {self.text!r} cannot be computed: {exc}") from None
        if not math.isfinite(result):
            raise ValueError(f"formula {self.text!r} is not finite ({result})")
        return result

    def _eval(self, node: ast.AST, values: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # _validate allowed numbers only
            return float(node.value)  # floats throughout: 9**9**9 overflows instead of spinning
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values)
            return -operand if isinstance(node.op, ast.USub) else operand
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return float(FUNCTIONS[node.func.id](*(self._eval(a, values) for a in node.args)))

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"
