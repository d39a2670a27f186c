"""The start form of a process: the camunda:formData of its none start event.

The compiled graph keeps form fields only for user tasks, so the start event's fields are
read here from the deployed XML with the engine's own safe parser and field reader (the same
types and constraints as task forms), and cached per file checksum.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.bpmn.context import Context
from engine.bpmn.errors import ProblemList
from engine.bpmn.parser import BPMN, parse_xml
from engine.bpmn.usertask import form_fields
from engine.graph import FormField
from engine.store.records import DefinitionRecord

_cache: dict[tuple[str, str], tuple[FormField, ...]] = {}
_lock = threading.Lock()


def start_form_fields(definition: DefinitionRecord) -> tuple[FormField, ...]:
    """The fields of the process's (first) none start event; () when it has none."""
    key = (definition.checksum, definition.key)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    fields = _read(definition.xml, definition.key)
    with _lock:
        _cache[key] = fields
    return fields


def _read(xml: bytes, process_key: str) -> tuple[FormField, ...]:
    root = parse_xml(xml)
    ctx = Context.for_file(root, ProblemList())
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") != process_key:
            continue
        for start in process.findall(f"{{{BPMN}}}startEvent"):
            if any(_is_event_definition(child) for child in start):
                continue
            return form_fields(start, ctx)
    return ()


def _is_event_definition(element: Any) -> bool:
    return isinstance(element.tag, str) and element.tag.endswith("EventDefinition")
