"""Process instance modification: move, cancel and start tokens, reset, restart (see
engine.commands.modification)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.commands import modification as cmd
from engine.commands.instances import checked_variables
from engine.errors import EngineError
from engine.services.base import Service

Instruction = cmd.Instruction


class ModificationService(Service):
    def modify(self, instance_id: str, *, cancel: Iterable[str] = (),
               start_before: Iterable[str] = (), start_after: Iterable[str] = (),
               cancel_tokens: Iterable[int] = (),
               variables: Mapping[str, Any] | None = None, reason: str | None = None,
               user: str | None = None) -> None:
        """Cancel every active instance of the `cancel` activities (and the single tokens
        `cancel_tokens`), then start a token before each `start_before` activity and after
        each `start_after` activity. `variables` are set on the process first. A subprocess
        left without a token is cancelled too; an instance left without any ends as
        terminated."""
        instructions: list[Instruction] = [("cancel_token", t)
                                           for t in cmd.token_ids(cancel_tokens)]
        instructions += [("cancel", a) for a in cmd.activity_names(cancel, "cancel")]
        instructions += [("start_before", a)
                         for a in cmd.activity_names(start_before, "start_before")]
        instructions += [("start_after", a)
                         for a in cmd.activity_names(start_after, "start_after")]
        self.apply_modification(instance_id, instructions, variables=variables, reason=reason,
                                user=user)

    def apply_modification(self, instance_id: str, instructions: Sequence[Instruction], *,
                           variables: Mapping[str, Any] | None = None,
                           reason: str | None = None, user: str | None = None) -> None:
        """Apply instructions in the given order: ("cancel", activity_id), ("cancel_token",
        token_id), ("start_before", activity_id), ("start_after", activity_id),
        ("start_transition", flow_id); a start instruction may carry variables as a third
        element."""
        steps = cmd.checked_instructions(instructions)
        self.executor.execute(cmd.Modify(instance_id, steps, checked_variables(variables),
                                         reason, user))

    def move_token(self, instance_id: str, from_activity: str, to_activity: str, *,
                   variables: Mapping[str, Any] | None = None, reason: str | None = None,
                   user: str | None = None) -> None:
        """Cancel what is active at `from_activity` and start before `to_activity`."""
        self.modify(instance_id, cancel=[from_activity], start_before=[to_activity],
                    variables=variables, reason=reason, user=user)

    def reset_to(self, instance_id: str, activity_id: str, *,
                 variables: Mapping[str, Any] | None = None, reason: str | None = None,
                 user: str | None = None) -> None:
        """Put the token back before `activity_id`, like SpiffWorkflow's reset to a task."""
        name = cmd.activity_names([activity_id], "reset_to")[0]
        self.executor.execute(cmd.ResetTo(instance_id, name, checked_variables(variables),
                                          reason, user))

    def restart(self, instance_id: str, start_before: Iterable[str], *,
                variables: Mapping[str, Any] | None = None, reason: str | None = None,
                user: str | None = None) -> str:
        """Run an ended instance again as a new instance of the same version (Camunda 7's
        restartProcessInstances); returns the new instance's id."""
        activities = cmd.activity_names(start_before, "start_before")
        if not activities:
            raise EngineError("restart needs at least one activity to start before")
        return self.executor.execute(cmd.Restart(instance_id, activities,
                                                 checked_variables(variables), reason, user))
