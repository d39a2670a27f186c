"""Helpers for runtime scenario tests: wrap a process body in BPMN definitions, deploy it
on an in-memory Engine with a manual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.testing import ManualClock

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'id="defs" targetNamespace="http://baton.test">\n'
)


def bpmn(body: str, pid: str = "p", extra: str = "") -> str:
    return f'{HEAD}{extra}<process id="{pid}" isExecutable="true">\n{body}\n</process>\n</definitions>'


def flows(*pairs: str) -> str:
    """flows("a>b", "b>c") -> sequence flows with ids a_b, b_c."""
    out = []
    for p in pairs:
        src, dst = p.split(">")
        out.append(f'<sequenceFlow id="{src}_{dst}" sourceRef="{src}" targetRef="{dst}"/>')
    return "\n".join(out)


class Harness:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.engine = Engine(clock=self.clock)

    def deploy(self, *xml: str) -> None:
        self.engine.deploy(*[x.encode() for x in xml])

    def start(self, key: str = "p", **variables):
        return self.engine.start(key, variables)

    def tasks(self, iid=None) -> list[str]:
        return sorted(t.activity_id for t in self.engine.tasks(instance_id=iid))

    def complete(self, activity_id: str, iid=None, **variables) -> None:
        matches = [t for t in self.engine.tasks(instance_id=iid) if t.activity_id == activity_id]
        assert len(matches) == 1, f"expected one open task {activity_id}, got {self.tasks(iid)}"
        self.engine.complete_task(matches[0].id, variables)

    def advance(self, **kw) -> int:
        self.clock.advance(timedelta(**kw))
        return self.engine.run_due_jobs()

    def status(self, iid) -> str:
        return self.engine.instance(iid).status

    def vars(self, iid) -> dict:
        return self.engine.instance(iid).variables

    def completed(self, iid) -> list[str]:
        return [h.activity_id for h in self.engine.history(iid) if h.type == "activity_completed"]

    def cancelled(self, iid) -> list[str]:
        return [h.activity_id for h in self.engine.history(iid) if h.type == "activity_cancelled"]


@pytest.fixture
def h() -> Harness:
    return Harness()
