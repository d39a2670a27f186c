"""Safe reading of uploaded DMN files, and telling them apart from BPMN files.

DMN files are untrusted uploads like diagrams, so they go through the very same lxml
settings as BPMN (`engine.bpmn.parser.parse_xml`): no DTD, no entities, no network, at most
10 MiB. Elements are matched by namespace URI and local name, never by prefix; every DMN
version's namespace is accepted (1.1 `.../20151101/dmn.xsd`, 1.2 `.../20180521/MODEL/`,
1.3 `.../20191111/MODEL/`, and the later `.../<date>/MODEL/` ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine.bpmn.errors import BpmnValidationError, Problem
from engine.bpmn.parser import parse_xml

CAMUNDA_DMN = "http://camunda.org/schema/1.0/dmn"
_DMN_NAMESPACE = re.compile(r"^https?://www\.omg\.org/spec/DMN/\d{8}/(MODEL/?|dmn\.xsd)$")
_SNIFF_LIMIT = 64 * 1024


class DmnValidationError(BpmnValidationError):
    """A DMN file that cannot be deployed; `problems` lists every reason found (each names
    the decision or rule, and the XML line). A subclass of BpmnValidationError so that
    upload forms and APIs report both kinds of file the same way."""


def is_dmn_namespace(uri: str | None) -> bool:
    return bool(uri) and _DMN_NAMESPACE.match(uri) is not None  # type: ignore[arg-type]


def root_namespace(data: bytes | str) -> str | None:
    """The namespace of the root element, read from the first start tag only.

    Cheap enough to call on every deployed file; resolves nothing (a DOCTYPE is refused
    later, by the full parse)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False)
    try:
        for offset in range(0, min(len(data), _SNIFF_LIMIT), 4096):
            parser.feed(data[offset:offset + 4096])
            for _event, element in parser.read_events():
                return etree.QName(element).namespace
    except etree.XMLSyntaxError:
        return None
    return None


def is_dmn(data: bytes | str, filename: str | None = None) -> bool:
    """Is this uploaded file a DMN model (root element in a DMN namespace, or a `.dmn` name)?"""
    if filename and filename.lower().endswith(".dmn"):
        return True
    return is_dmn_namespace(root_namespace(data))


def parse_dmn_xml(data: bytes | str, *, filename: str | None = None) -> etree._Element:
    """Parse an untrusted DMN file; its root must be a DMN `definitions` element."""
    try:
        root = parse_xml(data, filename=filename)
    except BpmnValidationError as exc:
        raise DmnValidationError([
            Problem(p.element_id, p.tag, p.line, p.message.replace("BPMN files", "DMN files"),
                    p.filename) for p in exc.problems]) from None
    qname = etree.QName(root)
    if not is_dmn_namespace(qname.namespace) or qname.localname != "definitions":
        raise DmnValidationError([Problem(
            None, qname.localname, root.sourceline,
            f"not a DMN file: the root element is {{{qname.namespace}}}{qname.localname}, "
            "expected definitions in a DMN namespace "
            "(such as https://www.omg.org/spec/DMN/20191111/MODEL/)", filename)])
    return root


# ---------------------------------------------------------------------------- reading helpers
def dmn_children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Direct children with local name `name` in the element's own (DMN) namespace."""
    uri = etree.QName(element).namespace
    for child in element:
        if isinstance(child.tag, str):
            qname = etree.QName(child)
            if qname.localname == name and qname.namespace == uri:
                yield child


def dmn_child(element: etree._Element, name: str) -> etree._Element | None:
    return next(dmn_children(element, name), None)


def text_child(element: etree._Element | None) -> str | None:
    """The stripped content of the element's `<text>` child; None when absent or blank."""
    if element is None:
        return None
    text = dmn_child(element, "text")
    if text is None:
        return None
    value = "".join(text.itertext()).strip()
    return value or None


def href_id(href: str | None) -> tuple[str | None, bool]:
    """`#decision_2` -> ("decision_2", True); a reference into another file -> (href, False)."""
    value = (href or "").strip()
    if value.startswith("#"):
        return value[1:] or None, True
    return (value or None), "#" not in value and value != ""


__all__ = ["CAMUNDA_DMN", "DmnValidationError", "dmn_child", "dmn_children", "href_id",
           "is_dmn", "is_dmn_namespace", "parse_dmn_xml", "root_namespace", "text_child"]
