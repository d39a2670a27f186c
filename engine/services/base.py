"""What every service holds: the executor (and, through it, the environment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand, CommandExecutor

T = TypeVar("T")


class Service:
    def __init__(self, executor: CommandExecutor) -> None:
        self.executor = executor
        self.env = executor.env

    def read(self, fn: Callable[[CommandContext], T], user: str | None = None) -> T:
        """A query as a command: one transaction, the actor resolved, nothing written."""
        return self.executor.execute(Query(fn, user))


class Query(BaseCommand):
    writes: ClassVar[bool] = False
    __slots__ = ("fn", "user")

    def __init__(self, fn: Callable[[CommandContext], Any], user: str | None) -> None:
        self.fn = fn
        self.user = user

    def execute(self, ctx: CommandContext) -> Any:
        return self.fn(ctx)
