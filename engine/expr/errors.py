"""Internal exceptions of the sandbox.

They carry only the problem ("attribute '__class__' is private"); `engine.expressions` turns
them into the public `ExpressionError`, which adds the expression text and where it sits.
"""

from __future__ import annotations


class Refused(Exception):
    """Compile time: the text is not accepted (syntax, forbidden construct, unknown function)."""

    def __init__(self, problem: str, lineno: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.lineno = lineno


class GuardError(Exception):
    """Run time: a guarded operation would exceed a resource limit or break a sandbox rule."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class BudgetExhausted(Exception):
    """Run time: loop iterations used up the operation budget."""
