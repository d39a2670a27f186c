"""The known differences and their pinned failures stay one list, and a pin tells a
different failure from the expected one."""

from __future__ import annotations

import re

from .harness import KNOWN_DIFFS
from .known_diffs import PINS, Pin, failing_line


def test_every_known_diff_is_pinned_and_every_pin_is_listed() -> None:
    assert sorted(set(KNOWN_DIFFS) - set(PINS)) == [], "known diffs without a pin"
    assert sorted(set(PINS) - set(KNOWN_DIFFS)) == [], "pins of no listed known diff"
    for pin in PINS.values():
        re.compile(pin.match)


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as e:  # noqa: BLE001 - the exception itself is the test value
        return e


class StepFailed(Exception):
    """Named like the drivers' error: pins compare class names."""


def test_a_pin_accepts_only_its_own_failure() -> None:
    """A known diff that starts failing another way (another class, another message, another
    line) is a new failure, not the known one."""
    pin = Pin("StepFailed", r"^deploy: scriptTask 'x' .*def/lambda")
    assert pin.explain(raised(StepFailed("deploy: scriptTask 'x' (line 2): no def/lambda"))) is None
    assert "expected StepFailed, got KeyError" in pin.explain(raised(KeyError("x")))
    assert "does not match" in pin.explain(raised(StepFailed("deploy: userTask 'y': boom")))
    at = Pin("KeyError", r"'y'", at="never this line")
    err = raised(KeyError("y"))
    assert failing_line(err) == "raise exc"
    assert "expected the failure at `never this line`" in at.explain(err)
