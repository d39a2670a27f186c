"""Issue 13: a call activity calling a global task (BPMN 2.0.2 10.3.5 Call Activity, 10.3.6
Global Task): `globalTask`, `globalUserTask`, `globalScriptTask`, ... defined at the
definitions level and named by a call activity's calledElement."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import HEAD, bpmn, flows

GLOBALS = (
    '<globalUserTask id="approve" name="Approve it"/>'
    '<globalScriptTask id="score" scriptFormat="python"><script>score = amount * 2</script>'
    '</globalScriptTask>'
    '<globalTask id="nothing"/>'
)


def _caller(called: str) -> str:
    return bpmn(f'<startEvent id="s"/><callActivity id="call" calledElement="{called}"/>'
                '<userTask id="after"/><endEvent id="e"/>'
                + flows("s>call", "call>after", "after>e"), extra=GLOBALS)


def test_calling_a_global_user_task_creates_the_task_in_the_called_instance(h):
    h.deploy(_caller("approve"))
    iid = h.start(amount=5)
    [child] = h.engine.instances(parent_id=iid)
    assert child.key == "approve"
    [task] = h.engine.tasks(instance_id=child.id)
    assert task.activity_id == "approve" and task.name == "Approve it"
    h.engine.complete_task(task.id, {"approved": True})
    assert h.tasks(iid) == ["after"]
    assert h.vars(iid) == {"amount": 5, "approved": True}


def test_calling_a_global_script_task_runs_its_script(h):
    h.deploy(_caller("score"))
    iid = h.start(amount=21)
    assert h.tasks(iid) == ["after"]
    assert h.vars(iid)["score"] == 42


def test_calling_a_plain_global_task_passes_through(h):
    h.deploy(_caller("nothing"))
    iid = h.start()
    assert h.tasks(iid) == ["after"]


def test_a_global_task_deployed_in_another_file(h):
    library = f'{HEAD}{GLOBALS}</definitions>'
    caller = bpmn('<startEvent id="s"/><callActivity id="call" calledElement="score"/>'
                  '<endEvent id="e"/>' + flows("s>call", "call>e"))
    h.deploy(library, caller)
    iid = h.start(amount=1)
    assert h.status(iid) == "completed"
    assert h.vars(iid)["score"] == 2


def test_a_documentation_only_file_is_still_refused_despite_its_global_tasks(h):
    from engine.bpmn import BpmnValidationError

    xml = (f'{HEAD}{GLOBALS}<process id="doc" isExecutable="false"><startEvent id="s"/>'
           '<callActivity id="c" calledElement="nothing"/>' + flows("s>c")
           + '</process></definitions>')
    with pytest.raises(BpmnValidationError, match="is executable"):
        h.deploy(xml)
