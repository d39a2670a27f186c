"""Safe XML parsing of uploaded diagrams, and the small helpers every other module reads with.

Diagrams are untrusted uploads. The parser never resolves entities, never loads a DTD, never
touches the network and refuses any DOCTYPE outright: a BPMN file has no use for one, and
refusing it closes billion-laughs and XXE at once, with a message the uploader understands.
XInclude elements are refused the same way: lxml never follows them, so a diagram holding one
would silently run without what its author meant to include. Ids, names and references are
capped (MAX_ID_LENGTH, MAX_NAME_LENGTH): a task name of a million characters would be copied
into every task row, list and error message that names it.
Elements are matched by namespace URI, never by prefix, because tools bind the BPMN namespace
to `bpmn:`, `bpmn2:`, `semantic:`, `model:` or the default namespace - sometimes all at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import islice
from types import MappingProxyType
from typing import Any

from lxml import etree

from engine.bpmn.errors import BpmnValidationError, Problem, local_name

MAX_BYTES = 10 * 1024 * 1024
# Compiling costs about 50 us per element; 10 MiB of `<task id="t1"/>` would be 25 s of CPU
# for one upload. Real diagrams (shapes and waypoints included) stay far below.
MAX_ELEMENTS = 100_000
# Camunda 7 keeps ids and names in VARCHAR(255) columns; Baton's columns are unbounded, but an
# id is repeated in every token, task, job and history row, so it stays as short as Camunda's.
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 2000
# attributes that hold an id (or a reference to one) besides `id` itself
_ID_ATTRIBUTES = frozenset({"sourceRef", "targetRef", "attachedToRef", "default", "processRef",
                            "messageRef", "signalRef", "errorRef", "escalationRef",
                            "calledElement", "activityRef", "bpmnElement", "dataObjectRef",
                            "dataStoreRef", "itemSubjectRef", "structureRef",
                            "eventDefinitionRef", "operationRef", "categoryValueRef"})
_MAX_LISTED = 20          # length problems listed at once (all of them could be 100,000)
XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
FLOWABLE = "http://flowable.org/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BATON = "http://baton.dev/schema/1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Camunda 7, Activiti and Flowable share one vocabulary (Camunda and Flowable forked Activiti).
CAMUNDA_LIKE = (CAMUNDA, ACTIVITI, FLOWABLE)

_DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _refuse(message: str, line: int | None, filename: str | None) -> BpmnValidationError:
    return BpmnValidationError([Problem(None, None, line, message, filename)])


def _as_bytes(data: bytes | str) -> bytes:
    """XML text given as str is re-encoded as UTF-8 and its encoding declaration dropped,
    since the declaration (say ISO-8859-1) no longer describes the bytes lxml will read."""
    if isinstance(data, bytes):
        return data
    return _XML_DECLARATION.sub("", data.lstrip("\ufeff"), count=1).encode("utf-8")


def check_size(size: int, filename: str | None) -> None:
    """Refuse uploads over MAX_BYTES (a BPMN diagram is rarely over 1 MiB)."""
    if size > MAX_BYTES:
        raise _refuse(
            f"the file is {size / 1048576:.1f} MiB; Baton accepts BPMN files up to "
            f"{MAX_BYTES // 1048576} MiB",
            None, filename,
        )


def parse_xml(data: bytes | str, *, filename: str | None = None) -> etree._Element:
    """Parse an untrusted XML document; raise BpmnValidationError (with a line) if refused.

    Refused: more than 10 MiB or MAX_ELEMENTS elements, any DOCTYPE or entity declaration,
    XInclude elements, ids and references longer than MAX_ID_LENGTH, names longer than
    MAX_NAME_LENGTH, malformed XML (including nesting deeper than 256 levels).
    """
    data = _as_bytes(data)
    check_size(len(data), filename)
    marker = _DTD_MARKERS.search(data)
    if marker:
        line = data.count(b"\n", 0, marker.start()) + 1
        raise _refuse(_dtd_message(marker.group(1).decode().upper()), line, filename)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        message = exc.msg or str(exc)
        message = re.sub(r",? line \d+, column \d+$", "", message)
        raise _refuse(f"the file is not well-formed XML: {message}", line, filename) from None
    docinfo = root.getroottree().docinfo
    # The byte scan misses a DOCTYPE in UTF-16 or other non-ASCII-compatible encodings.
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _refuse(_dtd_message("DOCTYPE"), 1, filename)
    count = sum(1 for _ in islice(root.iter(), MAX_ELEMENTS + 1))
    if count > MAX_ELEMENTS:
        raise _refuse(f"the file has more than {MAX_ELEMENTS:,} XML elements; Baton accepts "
                      "diagrams up to that size", None, filename)
    problems = _element_problems(root, filename)
    if problems:
        raise BpmnValidationError(problems)
    return root


def _element_problems(root: etree._Element, filename: str | None) -> list[Problem]:
    """XInclude elements, and ids, references and names over their length caps (at most
    _MAX_LISTED of them: one pass finds them all, the analyst fixes them in one round)."""
    problems: list[Problem] = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if "XInclude}" in tag and etree.QName(tag).namespace in XINCLUDE:
            problems.append(Problem(
                None, f"xi:{etree.QName(tag).localname}", element.sourceline,
                "the file contains an XInclude element; BPMN files need none, and Baton "
                "refuses them because they would read other files (and are never followed, "
                "so the diagram would silently run without what they include)", filename))
        for attribute, value in element.items():
            if len(value) <= MAX_ID_LENGTH:
                continue
            name = etree.QName(attribute).localname
            limit = MAX_NAME_LENGTH if name == "name" else \
                MAX_ID_LENGTH if name == "id" or name in _ID_ATTRIBUTES else None
            if limit is not None and len(value) > limit:
                what = "name" if name == "name" else "id" if name == "id" else \
                    f"reference {name}"
                element_id = element.get("id")
                problems.append(Problem(
                    element_id if element_id and len(element_id) <= MAX_ID_LENGTH else None,
                    etree.QName(tag).localname, element.sourceline,
                    f"the {what} is {len(value):,} characters long; Baton accepts "
                    f"{'names' if name == 'name' else 'ids and references'} of at most "
                    f"{limit:,} characters ({value[:40]!r}...)", filename))
        if len(problems) >= _MAX_LISTED:
            break
    return problems


def _dtd_message(what: str) -> str:
    return (
        f"the file contains a {what} declaration; BPMN files need none, and Baton refuses "
        "them because they can expand entities or read other files"
    )


# ---------------------------------------------------------------------------------------------
# Reading helpers


def is_bpmn(element: etree._Element, name: str | None = None) -> bool:
    """True for an element of the BPMN model namespace (with local name `name` if given)."""
    if not isinstance(element.tag, str):
        return False
    qname = etree.QName(element)
    return qname.namespace == BPMN and (name is None or qname.localname == name)


def namespace(element: etree._Element) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def bpmn_children(element: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    """Direct children in the BPMN namespace (optionally with one local name)."""
    for child in element:
        if is_bpmn(child, name):
            yield child


def bpmn_child(element: etree._Element, name: str) -> etree._Element | None:
    return next(bpmn_children(element, name), None)


def child_text(element: etree._Element, name: str) -> str | None:
    """Stripped text of the first BPMN child `name`, None when absent or empty."""
    child = bpmn_child(element, name)
    return text_of(child) if child is not None else None


def text_of(element: etree._Element | None) -> str | None:
    """All text inside an element (CDATA included), stripped; None when empty."""
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def script_text(element: etree._Element | None) -> str | None:
    """A script's text with its indentation kept (the sandbox dedents it); None when blank.

    Stripping would remove the first line's indentation only and break the block."""
    if element is None:
        return None
    text = "".join(element.itertext())
    return text if text.strip() else None


def extension_children(element: etree._Element, namespaces: tuple[str, ...] | str,
                       name: str | None = None) -> Iterator[etree._Element]:
    """Children of `element`'s extensionElements that belong to one vendor's namespace."""
    if isinstance(namespaces, str):
        namespaces = (namespaces,)
    for ext in bpmn_children(element, "extensionElements"):
        for child in ext:
            if namespace(child) in namespaces and (name is None or local_name(child) == name):
                yield child


def vendor_attr(element: etree._Element, name: str,
                namespaces: tuple[str, ...] = CAMUNDA_LIKE) -> str | None:
    """An extension attribute such as camunda:assignee, whichever vendor namespace it uses."""
    for uri in namespaces:
        value = element.get(f"{{{uri}}}{name}")
        if value is not None:
            return value
    return None


def ref(element: etree._Element, attribute: str) -> str | None:
    """An id reference attribute, with a namespace prefix (`tns:Message_1`) removed.

    Ids are NCNames and cannot contain a colon, so anything before one is a QName prefix.
    """
    value = element.get(attribute)
    if value is None:
        return None
    value = value.strip()
    return value.rsplit(":", 1)[-1] if ":" in value else value


def ref_text(element: etree._Element) -> str | None:
    """Like `ref` for references written as element text (`<sourceRef>Task_1</sourceRef>`)."""
    value = text_of(element)
    if value is None:
        return None
    return value.rsplit(":", 1)[-1] if ":" in value else value


def is_true(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy: compiled graphs are shared between threads and never change."""
    return MappingProxyType(dict(mapping))
