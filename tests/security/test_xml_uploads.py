"""Uploaded BPMN/DMN files are untrusted XML: no entities, no DTDs, no network, no file
inclusion, bounded size, depth and element count - refused with a message, through the
upload form as through the engine."""

from __future__ import annotations

import io

import pytest

from engine import Engine
from engine.bpmn import BpmnValidationError
from engine.bpmn.parser import MAX_ELEMENTS
from tests.security.diagrams import HEAD

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def process(body: str) -> str:
    return HEAD + f'<process id="p" isExecutable="true">{body}</process></definitions>'


REFUSED = {
    "external entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                       f'"file:///etc/passwd">]><definitions {NS}><process id="p" name="&x;"/>'
                       "</definitions>",
    "entity expansion": f'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                        f'<definitions {NS}><process id="p" name="&b;"/></definitions>',
    "parameter entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM '
                        f'"http://169.254.169.254/x.dtd"> %p;]><definitions {NS}/>',
    "external DTD": f'<?xml version="1.0"?><!DOCTYPE definitions SYSTEM '
                    f'"http://169.254.169.254/bpmn.dtd"><definitions {NS}/>',
    "deep nesting": process('<startEvent id="s"/>' + "<extensionElements>" * 5000
                            + "</extensionElements>" * 5000),
    "too many elements": process("".join(f'<task id="t{i}"/>'
                                         for i in range(MAX_ELEMENTS + 10))),
    "over 10 MiB": process(f'<startEvent id="s" name="{"a" * (11 << 20)}"/>'),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_xml_is_refused_with_a_message(name: str) -> None:
    with pytest.raises(BpmnValidationError) as info:
        Engine().deploy(REFUSED[name].encode())
    assert str(info.value).strip()


def test_a_doctype_in_utf16_is_refused_too() -> None:
    xml = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>'
           f'<definitions {NS}><process id="p" name="&x;"/></definitions>')
    with pytest.raises(BpmnValidationError, match="DOCTYPE"):
        Engine().deploy(xml.encode("utf-16"))


def test_schema_locations_are_never_followed_and_xinclude_is_refused() -> None:
    xml = HEAD.replace('targetNamespace="t"', 'targetNamespace="t" '
                       'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                       'xsi:schemaLocation="x http://169.254.169.254/s.xsd"') + (
        '<import importType="http://www.w3.org/2001/XMLSchema" location="file:///etc/passwd" '
        'namespace="x"/><process id="p" isExecutable="true">'
        '<documentation>{include}</documentation>'
        '<startEvent id="s"/></process></definitions>')
    engine = Engine()
    engine.deploy(xml.format(include="").encode())
    graph = engine.compiled(engine.definitions("p")[0].id).processes["p"]
    assert "root:" not in str(graph.ext.get("documentation") or "")
    # lxml never follows an XInclude: silently running without it would surprise the
    # author, so it is refused like a DTD
    include = ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
               'href="file:///etc/passwd" parse="text"/>')
    with pytest.raises(BpmnValidationError, match="XInclude"):
        engine.deploy(xml.format(include=include).encode())


def test_the_upload_form_lists_the_refusal(browser) -> None:
    ann = browser("ann")
    r = ann.post("/processes/upload",
                 {"diagram": (io.BytesIO(REFUSED["external entity"].encode()), "x.bpmn")},
                 content_type="multipart/form-data")
    assert r.status_code == 422
    assert "DOCTYPE" in r.get_data(as_text=True)
