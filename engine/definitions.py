"""Compiled definitions, cached per process.

Why a cache of its own: a deployed file is immutable, so it is compiled once per process
and every command, service and worker shares the result. Commands need it (the graph of
the instance they load, the decisions its business rule tasks call) and so does the
repository service, so it lives below both rather than in the facade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.bpmn import compile_bpmn
from engine.dmn import Decision, DecisionSet, compile_dmn, is_dmn
from engine.errors import NotFound
from engine.graph import Definitions, ProcessGraph
from engine.store.records import DefinitionRecord

if TYPE_CHECKING:
    from engine.store.protocol import StoreTransaction


class DefinitionCache:
    """Graphs by definition id, compiled files by checksum and migration mode (the same
    file deployed with and without `compat` compiles to different graphs), DMN decision
    sets by checksum."""

    def __init__(self) -> None:
        self.graphs: dict[str, ProcessGraph] = {}
        self.files: dict[tuple[str, str | None], Definitions] = {}
        self.decision_sets: dict[str, DecisionSet] = {}
        self.dmn_checksums: dict[str, bool] = {}
        self.decision_refs: dict[int, tuple[ProcessGraph, tuple[str, ...]]] = {}

    def graph(self, definition_id: str, tx: StoreTransaction) -> ProcessGraph:
        """The compiled graph of a definition, read through the caller's transaction."""
        g = self.graphs.get(definition_id)
        if g is None:
            rec = tx.get_definition(definition_id)
            if rec is None:
                raise NotFound(f"process definition '{definition_id}' not found")
            g = self.graph_from_record(rec)
        return g

    def graph_from_record(self, rec: DefinitionRecord) -> ProcessGraph:
        if self.is_dmn(rec):
            raise NotFound(f"'{rec.key}' is a DMN decision, not a process")
        defs = self.files.get((rec.checksum, rec.compat))
        if defs is None:
            # lenient: a validation rule added since the file was deployed must not make a
            # stored definition (and its running instances) unloadable; compat: the
            # migration mode it was deployed in, so the graph is the one deployed
            defs = compile_bpmn(rec.xml, filename=rec.resource, lenient=True,
                                compat=rec.compat)
            self.files[rec.checksum, rec.compat] = defs
        g = defs.processes[rec.key]
        self.graphs[rec.id] = g
        return g

    def file_of(self, rec: DefinitionRecord) -> Definitions:
        """The whole compiled file of a definition (diagram data for drawing)."""
        self.graph_from_record(rec)
        return self.files[rec.checksum, rec.compat]

    def is_dmn(self, rec: DefinitionRecord) -> bool:
        known = self.dmn_checksums.get(rec.checksum)
        if known is None:
            known = self.dmn_checksums[rec.checksum] = is_dmn(rec.xml, rec.resource)
        return known

    def latest_decision(self, tx: StoreTransaction, decision_id: str) -> Decision | None:
        """The latest deployed version of a decision (compiled once per file)."""
        rec = tx.latest_definition(decision_id)
        if rec is None or not self.is_dmn(rec):
            return None
        decisions = self.decision_sets.get(rec.checksum)
        if decisions is None:
            decisions = compile_dmn(rec.xml, filename=rec.resource)
            self.decision_sets[rec.checksum] = decisions
        return decisions.decisions.get(decision_id)

    def decisions_for(self, tx: StoreTransaction,
                      graph: ProcessGraph) -> dict[str, Decision] | None:
        """The decisions a process's business rule tasks call, resolved before the pure
        runtime runs (it cannot read the store itself)."""
        cached = self.decision_refs.get(id(graph))
        if cached is None or cached[0] is not graph:
            refs = tuple(sorted({n.ext["decision_ref"] for n in graph.nodes
                                 if n.kind == "businessRuleTask" and n.ext
                                 and n.ext.get("decision_ref")}))
            cached = self.decision_refs[id(graph)] = (graph, refs)
        if not cached[1]:
            return None
        found = {}
        for ref in cached[1]:
            decision = self.latest_decision(tx, ref)
            if decision is not None:
                found[ref] = decision
        return found
