"""Form fields from camunda:formData, server-side validation, and completing with a form."""

from __future__ import annotations

import pytest

from engine.errors import Forbidden
from engine.forms import (
    FormInvalid,
    check_pattern,
    field_json,
    form_fields,
    initial_values,
    plain_fields,
    validate_form,
)
from engine.graph import FormField

from .diagrams import FORM, one_task


def fields(*specs):
    return plain_fields(specs)


# ---------------------------------------------------------------- types


@pytest.mark.parametrize(("kind", "raw", "value"), [
    ("long", "12", 12), ("long", " -7 ", -7), ("long", 12, 12), ("long", 3.0, 3),
    ("double", "2.5", 2.5), ("double", "1e3", 1000.0), ("double", 4, 4.0),
    ("boolean", "true", True), ("boolean", "on", True), ("boolean", "false", False),
    ("boolean", True, True),
    ("date", "2026-03-01", "2026-03-01"), ("date", "2026-03-01T10:00:00+02:00", "2026-03-01"),
    ("string", "hello", "hello"), ("custom", "shown as text", "shown as text"),
])
def test_values_are_parsed_to_their_type(kind, raw, value):
    got, errors = validate_form(fields({"id": "x", "type": kind}), {"x": raw})
    assert errors == {} and got == {"x": value}
    assert type(got["x"]) is type(value)


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("long", "12a", "must be a whole number"), ("long", "1.5", "must be a whole number"),
    ("long", True, "must be a whole number"), ("long", "9" * 30, "must be a whole number"),
    ("long", str(2**63), "is too large"),
    ("double", "abc", "must be a number"), ("double", "nan", "must be a number"),
    ("double", 1e309, "must be a finite number"),
    ("boolean", "maybe", "must be true or false"),
    ("date", "31/01/2026", "must be a date like 2026-01-31"),
    ("date", "2026-02-30", "must be a date like 2026-01-31"),
    ("string", 5, "must be text"), ("string", ["a"], "must be a single value"),
])
def test_bad_values_get_a_message_for_the_user(kind, raw, message):
    got, errors = validate_form(fields({"id": "x", "type": kind}), {"x": raw})
    assert got == {} and errors == {"x": message}


def test_enum_accepts_only_its_value_ids():
    f = fields({"id": "d", "type": "enum", "values": [("pay", "Pay"), ("reject", "Reject")]})
    assert validate_form(f, {"d": "pay"}) == ({"d": "pay"}, {})
    assert validate_form(f, {"d": "Pay"})[1] == {"d": "must be one of: pay, reject"}


# ---------------------------------------------------------------- presence


def test_required_fields_and_empty_optional_fields():
    f = fields({"id": "a", "type": "long", "required": True}, {"id": "b", "type": "string"},
               {"id": "c", "type": "long"})
    values, errors = validate_form(f, {"a": "  ", "c": ""})
    assert errors == {"a": "is required"}
    values, errors = validate_form(f, {"a": "1"})
    assert errors == {} and values == {"a": 1, "b": None, "c": None}


def test_absent_boolean_is_false_like_an_unchecked_checkbox():
    f = fields({"id": "ok", "type": "boolean", "default": "true"})
    assert validate_form(f, {}) == ({"ok": False}, {})


def test_absent_field_takes_its_default():
    f = fields({"id": "n", "type": "long", "default": "5"})
    assert validate_form(f, {}) == ({"n": 5}, {})
    assert validate_form(f, {"n": "7"}) == ({"n": 7}, {})


def test_unknown_and_readonly_fields_are_ignored():
    f = fields({"id": "a"}, {"id": "locked", "readonly": True})
    values, errors = validate_form(f, {"a": "x", "locked": "changed", "isAdmin": "true"})
    assert errors == {} and values == {"a": "x"}


def test_a_form_must_be_a_mapping():
    assert validate_form(fields({"id": "a"}), ["a"])[1] == {
        "": "the form must be a mapping of field ids to values"}


# ---------------------------------------------------------------- constraints


def test_length_and_range_constraints():
    f = fields({"id": "s", "constraints": {"minlength": 2, "maxlength": 4}},
               {"id": "n", "type": "long", "constraints": {"min": 1, "max": 10}},
               {"id": "d", "type": "date", "constraints": {"min": "2026-01-01"}})
    _, errors = validate_form(f, {"s": "a", "n": "0", "d": "2025-12-31"})
    assert errors == {"s": "must be at least 2 characters", "n": "must be at least 1",
                      "d": "must be on or after 2026-01-01"}
    _, errors = validate_form(f, {"s": "abcde", "n": "11", "d": "2026-01-01"})
    assert errors == {"s": "must be at most 4 characters", "n": "must be at most 10"}
    assert validate_form(f, {"s": "abc", "n": "10", "d": "2026-05-05"})[1] == {}


def test_text_has_an_upper_bound_even_without_maxlength():
    _, errors = validate_form(fields({"id": "s"}), {"s": "x" * 10_001})
    assert errors == {"s": "must be at most 10000 characters"}


def test_pattern_must_match_the_whole_value():
    f = fields({"id": "p", "constraints": {"pattern": "[A-Z]{2}-[0-9]{6}"}})
    assert validate_form(f, {"p": "AB-123456"})[1] == {}
    assert validate_form(f, {"p": "xAB-123456"})[1] == {"p": "does not have the expected format"}
    assert validate_form(f, {"p": "AB-1234567"})[1] == {"p": "does not have the expected format"}


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(a|a)*b", r"(x*)*y", r"\d*\d*\d*\d*z",
                                     r"(a)\1", r"("])
def test_dangerous_or_broken_patterns_are_refused_not_run(pattern):
    assert check_pattern(pattern) is not None
    f = fields({"id": "p", "constraints": {"pattern": pattern}})
    _, errors = validate_form(f, {"p": "a" * 40})
    assert errors["p"].startswith("cannot be checked: the diagram's pattern is refused")


@pytest.mark.parametrize("pattern", [r"[A-Z]{2}\d{6}", r"[^@\s]+@[^@\s]+\.[^@\s]+",
                                     r"\+?[0-9 ]{6,20}", r"(\d{3}-){2}\d{4}", r".*"])
def test_ordinary_patterns_are_accepted(pattern):
    assert check_pattern(pattern) is None


def test_long_values_are_not_run_against_a_pattern():
    f = fields({"id": "p", "constraints": {"pattern": ".*"}})
    assert validate_form(f, {"p": "x" * 300})[1] == {"p": "must be at most 256 characters"}


# ---------------------------------------------------------------- from the diagram


@pytest.fixture
def form_task(engine):
    engine.deploy(one_task('camunda:candidateGroups="adjusters" camunda:formKey="review.html"',
                           FORM))
    engine.start("p", {"claim_id": "C-7", "amount": 250})
    (t,) = engine.tasks()
    return t


def test_form_fields_come_from_camunda_form_data(engine, form_task):
    got = form_fields(engine, form_task)
    assert [f.id for f in got] == ["amount", "approved", "decision", "policy",
                                   "incident_date", "claim_id", "note"]
    amount = got[0]
    assert (amount.type, amount.required, dict(amount.constraints)) == (
        "long", True, {"min": 1, "max": 100000})
    assert got[5].readonly


def test_task_form_has_initial_values_and_form_key(engine, form_task):
    form = engine.task_form(form_task.id)
    assert form.form_key == "review.html"
    assert form.values["amount"] == 250             # the process variable
    assert form.values["claim_id"] == "C-7"
    assert form.values["note"] == "n/a"             # evaluated ${...} default
    assert form.values["decision"] is None
    decision = field_json(form.fields[2], None)
    assert decision["values"] == [{"id": "pay", "label": "Pay"},
                                  {"id": "reject", "label": "Reject"}]


def test_initial_values_survive_a_failing_default_expression(engine, form_task):
    broken = [f for f in form_fields(engine, form_task) if f.id == "note"]
    assert initial_values(broken, {}) == {"note": "n/a"}
    plain = [FormField(id="x", default="d")]
    assert initial_values(plain, {"x": None}) == {"x": "d"}


def test_submit_form_reports_every_bad_field_and_keeps_the_task(engine, form_task):
    engine.claim(form_task.id, "ann")
    with pytest.raises(FormInvalid) as info:
        engine.submit_form(form_task.id, "ann", {
            "amount": "12a", "decision": "maybe", "policy": "nope",
            "incident_date": "yesterday"})
    assert info.value.status == 400
    assert info.value.errors == {
        "amount": "must be a whole number", "decision": "must be one of: pay, reject",
        "policy": "does not have the expected format",
        "incident_date": "must be a date like 2026-01-31"}
    assert engine.task(form_task.id).assignee == "ann"
    assert engine.instance(form_task.instance_id).status == "running"


def test_submit_form_completes_with_typed_values(engine, form_task):
    engine.claim(form_task.id, "ann")
    stored = engine.submit_form(form_task.id, "ann", {
        "amount": "900", "approved": "on", "decision": "pay", "policy": "AB-123456",
        "incident_date": "2026-01-15", "claim_id": "HACKED", "is_admin": "yes"})
    assert stored == {"amount": 900, "approved": True, "decision": "pay",
                      "policy": "AB-123456", "incident_date": "2026-01-15", "note": "n/a"}
    inst = engine.instance(form_task.instance_id)
    assert inst.status == "completed"
    assert inst.variables["amount"] == 900 and inst.variables["claim_id"] == "C-7"
    assert "is_admin" not in inst.variables


def test_submit_form_checks_who_submits_before_the_values(engine, form_task):
    engine.claim(form_task.id, "ann")
    with pytest.raises(Forbidden, match="is assigned to 'ann', not to 'bob'"):
        engine.submit_form(form_task.id, "bob", {"amount": "bad"})


def test_fields_not_posted_keep_what_the_form_shows(engine, form_task):
    engine.claim(form_task.id, "ann")
    stored = engine.submit_form(form_task.id, "ann", {"decision": "reject"})
    assert stored["amount"] == 250 and stored["approved"] is False
    assert engine.instance(form_task.instance_id).status == "completed"


def test_validate_form_uses_initial_values_only_for_absent_fields():
    f = fields({"id": "n", "type": "long", "required": True})
    assert validate_form(f, {}, {"n": 3}) == ({"n": 3}, {})
    assert validate_form(f, {"n": ""}, {"n": 3})[1] == {"n": "is required"}
