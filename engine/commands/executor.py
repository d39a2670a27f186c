"""The one path every operation takes: a command object run by the `CommandExecutor`
through a chain of interceptors.

Why a chain: what every command needs — a transaction retried on an optimistic conflict,
the acting user resolved and checked against the policy table, the engine's script
functions in scope, listeners told once the transaction committed — is written once
here, not in each command and never in a door (Camunda 7's CommandInterceptor chain:
log, transaction context, command context). Order, outermost first:

  ScriptFunctionsInterceptor -> RetryInterceptor -> TransactionInterceptor
      -> AuthorizationInterceptor -> command.execute(ctx)

A command's `execute` runs inside the transaction with a `CommandContext`: it loads and
locks what it touches first, re-reads what it acts on inside that lock, asks the policy
(`ctx.authorize`), validates, runs the pure runtime and applies its effects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from engine.commands.context import CommandContext
from engine.errors import Conflict, EngineError
from engine.policy import Actor, authorize
from engine.script_functions import ENGINE_FUNCTIONS
from engine.store.records import ConcurrentModification

if TYPE_CHECKING:
    from connectors.registry import Registry
    from engine.definitions import DefinitionCache
    from engine.store.protocol import Store

T = TypeVar("T")
MAX_ATTEMPTS = 8


class Command(Protocol[T]):
    """One operation's inputs. `permission` is the (resource, action) policy row checked for
    every actor before the command runs (None: the command checks against what it loads);
    `writes` False marks a query (no instance is written, nothing retried)."""

    permission: ClassVar[tuple[str, str] | None]
    writes: ClassVar[bool]

    def execute(self, ctx: CommandContext) -> T: ...


class BaseCommand:
    """Defaults for commands: checked against what they load, and writing."""

    __slots__ = ()
    permission: ClassVar[tuple[str, str] | None] = None
    writes: ClassVar[bool] = True


@dataclass(slots=True)
class CommandEnvironment:
    """What commands share across transactions: the store, the clock, compiled
    definitions, connectors, script functions and the listeners told after commits."""

    store: Store
    clock: Callable[[], datetime]
    definitions: DefinitionCache
    connectors: Registry
    script_functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    listeners: list[Callable[[str, Any], None]] = field(default_factory=list)


@dataclass(slots=True)
class Invocation:
    """A command on its way through the chain."""

    command: Any
    env: CommandEnvironment
    ctx: CommandContext | None = None


Next = Callable[[Invocation], Any]


class Interceptor(Protocol):
    def __call__(self, inv: Invocation, proceed: Next) -> Any: ...


def script_functions_interceptor(inv: Invocation, proceed: Next) -> Any:
    """What this engine's scripts may call, for the duration of the command."""
    functions = inv.env.script_functions
    if not functions:
        return proceed(inv)
    token = ENGINE_FUNCTIONS.set(functions)
    try:
        return proceed(inv)
    finally:
        ENGINE_FUNCTIONS.reset(token)


def retry_interceptor(inv: Invocation, proceed: Next) -> Any:
    """Run the command again on the new state when a concurrent command changed an instance
    it wrote (optimistic revision check); give up with Conflict after MAX_ATTEMPTS."""
    last: Exception | None = None
    for _ in range(MAX_ATTEMPTS):
        try:
            return proceed(inv)
        except ConcurrentModification as e:
            last = e
    raise kept_changing(last)


def kept_changing(last: Exception | None) -> Conflict:
    return Conflict(f"instance '{last}' kept changing under this command; try again")


def transaction_interceptor(inv: Invocation, proceed: Next) -> Any:
    """One transaction per command; listeners hear of its changes once it committed."""
    env = inv.env
    with env.store.transaction(not inv.command.writes) as tx:
        ctx = inv.ctx = CommandContext(env, tx, acting(tx, inv.command))
        result = proceed(inv)
        if inv.command.writes:
            ctx.finish()
    announce(env, ctx)
    return result


def acting(tx: Any, command: Any) -> Actor | None:
    """The command's acting user, read in its transaction (None: the trusted caller)."""
    user = getattr(command, "user", None)
    if user is None:
        return None
    if not isinstance(user, str) or not user:
        raise EngineError("the acting user must be a user id")
    return Actor(user, tx.get_user(user))


def announce(env: CommandEnvironment, ctx: CommandContext) -> None:
    """Tell the listeners what a committed command changed."""
    for event in ctx.notifications:
        for listener in env.listeners:
            listener(*event)


def authorization_interceptor(inv: Invocation, proceed: Next) -> Any:
    """Check the command's fixed permission row (its resource-level rows the command checks
    itself, once it has loaded the resource)."""
    permission = type(inv.command).permission
    if permission is not None:
        assert inv.ctx is not None
        authorize(inv.ctx.actor, *permission)
    return proceed(inv)


def run_default_chain(inv: Invocation) -> Any:
    """DEFAULT_CHAIN composed by hand: the same four steps in the same order (the helpers
    above are theirs), in one frame instead of nine. Every command takes this path, and
    each link of a composed chain costs a call; tests run the command path through both."""
    env = inv.env
    command = inv.command
    functions = env.script_functions
    token = ENGINE_FUNCTIONS.set(functions) if functions else None
    try:
        last: Exception | None = None
        for _ in range(MAX_ATTEMPTS):
            try:
                with env.store.transaction(not command.writes) as tx:
                    ctx = inv.ctx = CommandContext(env, tx, acting(tx, command))
                    permission = type(command).permission
                    if permission is not None:
                        authorize(ctx.actor, *permission)
                    result = command.execute(ctx)
                    if command.writes:
                        ctx.finish()
            except ConcurrentModification as e:
                last = e
                continue
            announce(env, ctx)
            return result
        raise kept_changing(last)
    finally:
        if token is not None:
            ENGINE_FUNCTIONS.reset(token)


DEFAULT_CHAIN: tuple[Interceptor, ...] = (
    script_functions_interceptor, retry_interceptor, transaction_interceptor,
    authorization_interceptor,
)


class CommandExecutor:
    """Runs commands through the interceptor chain (composed once: a command costs one call
    per interceptor, no per-command closures)."""

    def __init__(self, env: CommandEnvironment,
                 interceptors: Sequence[Interceptor] = DEFAULT_CHAIN) -> None:
        self.env = env
        self.interceptors = tuple(interceptors)
        call: Next = run_command
        for interceptor in reversed(self.interceptors):
            call = chained(interceptor, call)
        self.call = run_default_chain if interceptors is DEFAULT_CHAIN else call

    def execute(self, command: Command[T]) -> T:
        if not command.writes and getattr(command, "user", None) is None:
            # a read by the trusted caller: nothing to authorize, retry or announce, and
            # scripts do not run; one transaction is all it needs
            env = self.env
            with env.store.transaction(True) as tx:
                return command.execute(CommandContext(env, tx, None))
        return self.call(Invocation(command, self.env))

    def run(self, fn: Callable[[CommandContext], T], user: str | None = None) -> T:
        """Execute a function as a command (the job executor's internal steps)."""
        return self.execute(FunctionCommand(fn, user))


def run_command(inv: Invocation) -> Any:
    assert inv.ctx is not None
    return inv.command.execute(inv.ctx)


def chained(interceptor: Interceptor, proceed: Next) -> Next:
    def call(inv: Invocation) -> Any:
        return interceptor(inv, proceed)

    return call


@dataclass(slots=True)
class FunctionCommand(BaseCommand):
    """An engine-internal step written as a function of the context."""

    fn: Callable[[CommandContext], Any]
    user: str | None = None

    def execute(self, ctx: CommandContext) -> Any:
        return self.fn(ctx)


def variables_of(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(variables or {})
