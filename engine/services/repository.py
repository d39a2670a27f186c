"""Deployments, definitions and DMN decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.bpmn import BpmnValidationError, Problem, compile_bpmn
from engine.bpmn.rules.deployment import check_deployment
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
               user: str | None = None, strict: bool = False,
               tenant_id: str | None = None,
               compat: str | None = None) -> list[ProcessDefinition]:
        """Deploy one or more BPMN or DMN files (bytes, XML text, paths or (name, bytes)
        pairs) as one deployment. All files are validated before anything is stored.
        `tenant_id` labels the definitions (Camunda's deployment tenant).

        `compat` is an explicit migration mode for diagrams written for another engine
        (engine.bpmn.compat; "spiffworkflow": SpiffWorkflow's multi-instance data rules).
        It is never inferred from the diagrams, is stored with each process definition
        and shown on it; an unknown value is refused (EngineError naming the allowed ones).

        Warnings (docs/validation-rules.md: what Baton runs with a documented fallback) come
        back on each ProcessDefinition of their file; with `strict` they refuse the
        deployment like errors (BpmnValidationError lists them)."""
        compiled: list[tuple[str | None, bytes, Any]] = []
        if user is not None:      # refuse before the (costly) compilation
            self.read(lambda c: c.authorize("definition", "deploy"), user)
        cmd.check_compat(compat)  # before compiling with it (the command checks it again)
        for src in (source, *more):
            resource, data = read_source(src)
            if is_dmn(data, resource):
                decisions = compile_dmn(data, filename=resource)
                if strict and decisions.warnings:
                    raise BpmnValidationError([Problem(None, None, None, text,
                                                       severity="warning")
                                               for text in decisions.warnings])
                compiled.append((resource, data, decisions))
            else:
                compiled.append((resource, data, compile_bpmn(data, filename=resource,
                                                              strict=strict, compat=compat)))
        compiled = self._check_calls(compiled, strict)
        return self.executor.execute(cmd.Deploy(name, compiled, user, tenant_id, compat))

    def _check_calls(self, compiled: list[tuple[str | None, bytes, Any]],
                     strict: bool) -> list[tuple[str | None, bytes, Any]]:
        """The rules across files: each call activity against the process it calls, in this
        deployment or deployed before. Errors refuse; warnings join their file's."""
        bpmn = [i for i, (_, _, defs) in enumerate(compiled) if isinstance(defs, Definitions)]
        found = check_deployment([compiled[i][2] for i in bpmn], [compiled[i][0] for i in bpmn],
                                 self._deployed_graph)
        refused = [p for problems in found for p in problems
                   if strict or p.severity == "error"]
        if refused:
            raise BpmnValidationError(refused)
        out = list(compiled)
        for i, problems in zip(bpmn, found, strict=True):
            if problems:
                resource, data, defs = compiled[i]
                out[i] = (resource, data,
                          replace(defs, warnings=defs.warnings + tuple(map(str, problems))))
        return out

    def _deployed_graph(self, key: str) -> ProcessGraph | None:
        """The latest deployed version of a process key, if any (not a DMN decision)."""
        def read(c: CommandContext) -> ProcessGraph | None:
            rec = c.tx.latest_definition(key)
            if rec is None or c.env.definitions.is_dmn(rec):
                return None
            return c.graph(rec.id)

        return self.read(read)

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
