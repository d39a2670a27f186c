"""Deployments, definitions and DMN decisions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.bpmn import compile_bpmn
from engine.commands import deployment as cmd
from engine.commands.context import CommandContext
from engine.commands.deployment import ProcessDefinition
from engine.dmn import DecisionError, DecisionResult, compile_dmn, is_dmn
from engine.errors import EngineError, NotFound
from engine.graph import Definitions, ProcessGraph
from engine.limits import check_variables
from engine.services.base import Service
from engine.store.records import DefinitionRecord


class RepositoryService(Service):
    def deploy(self, source: Any, *more: Any, name: str | None = None,
               user: str | None = None) -> list[ProcessDefinition]:
        """Deploy one or more BPMN or DMN files (bytes, XML text, paths or (name, bytes)
        pairs) as one deployment. All files are validated before anything is stored."""
        compiled: list[tuple[str | None, bytes, Any]] = []
        if user is not None:      # refuse before the (costly) compilation
            self.read(lambda c: c.authorize("definition", "deploy"), user)
        for src in (source, *more):
            resource, data = read_source(src)
            if is_dmn(data, resource):
                compiled.append((resource, data, compile_dmn(data, filename=resource)))
            else:
                compiled.append((resource, data, compile_bpmn(data, filename=resource)))
        return self.executor.execute(cmd.Deploy(name, compiled, user))

    def graph(self, definition_id: str) -> ProcessGraph:
        """The compiled graph of a definition."""
        g = self.env.definitions.graphs.get(definition_id)
        if g is not None:
            return g
        return self.read(lambda c: c.graph(definition_id))

    def definitions(self, key: str | None = None, *,
                    user: str | None = None) -> list[DefinitionRecord]:
        """Deployed process definitions (DMN decisions are listed by `decisions`)."""
        return self.executor.execute(cmd.ReadDefinitions(key, False, user))

    def decisions(self, key: str | None = None, *,
                  user: str | None = None) -> list[DefinitionRecord]:
        """Deployed DMN decisions (all versions), as definition records keyed by decision id."""
        return self.executor.execute(cmd.ReadDefinitions(key, True, user))

    def definition(self, key: str, version: int | None = None, *,
                   user: str | None = None) -> DefinitionRecord:
        def read(c: CommandContext) -> DefinitionRecord:
            c.authorize("definition", "read")
            rec = (c.tx.definition_version(key, version) if version
                   else c.tx.latest_definition(key))
            if rec is None:
                raise NotFound(f"no process definition with key '{key}'"
                               + (f" and version {version}" if version else ""))
            return rec

        return self.read(read, user)

    def definition_by_id(self, definition_id: str, *,
                         user: str | None = None) -> DefinitionRecord:
        def read(c: CommandContext) -> DefinitionRecord:
            c.authorize("definition", "read")
            rec = c.tx.get_definition(definition_id)
            if rec is None:
                raise NotFound(f"process definition '{definition_id}' not found")
            return rec

        return self.read(read, user)

    def compiled(self, definition_id: str, *, user: str | None = None) -> Definitions:
        """The whole compiled file of a definition (diagram data for drawing)."""
        return self.env.definitions.file_of(self.definition_by_id(definition_id, user=user))

    def evaluate_decision(self, decision_id: str, variables: Mapping[str, Any] | None = None,
                          *, user: str | None = None) -> DecisionResult:
        """Evaluate the latest version of a deployed decision (no process needed)."""
        check_variables(variables)

        def read(c: CommandContext) -> Any:
            c.authorize("decision", "evaluate")
            return c.env.definitions.latest_decision(c.tx, decision_id)

        decision = self.read(read, user)
        if decision is None:
            raise NotFound(f"no DMN decision with id '{decision_id}' is deployed")
        try:
            return decision.evaluate(dict(variables or {}))
        except DecisionError as e:
            raise EngineError(str(e)) from e


def read_source(src: Any) -> tuple[str | None, bytes]:
    if isinstance(src, tuple):      # (file name, bytes or XML text): an uploaded file
        return src[0], src[1] if isinstance(src[1], bytes) else str(src[1]).encode("utf-8")
    if isinstance(src, bytes):
        return None, src
    if isinstance(src, str) and src.lstrip().startswith("<"):
        return None, src.encode("utf-8")
    path = Path(src)
    try:
        return path.name, path.read_bytes()
    except OSError as e:
        raise EngineError(f"cannot read BPMN file '{src}': {e.strerror}") from e
