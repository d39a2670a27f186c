"""Shared harness for replaying the third-party corpus (`../shared/corpus`) on Baton.

Why: the corpus MANIFEST states, for every executable diagram, what the upstream engine's own
tests observed (tasks created, path taken, variables, errors). A *scenario* replays those
steps on Baton and asserts the same outcome; the parametrized corpus tests turn every
executable MANIFEST row into one test, so a diagram nobody wrote a scenario for counts as a
failure, and a known difference must keep failing to stay excused.

How to write a scenario (see `camunda_scenarios.py`)::

    from .harness import Ctx, scenario

    @scenario("camunda/event/signal/X.bpmn20.xml", also=["camunda/event/signal/Y.bpmn20.xml"])
    def _(ctx: Ctx) -> None:
        iid = ctx.start(input=1)            # key defaults to the main file's executable process
        assert ctx.task_names() == ["Task 1"]
        ctx.complete("Task 1")              # by task name or activity id; exactly one must match
        ctx.advance(timedelta(hours=1))     # ManualClock + run_due_jobs()
        assert ctx.status(iid) == "completed"

The main file and the `also` files are deployed together (one deployment) before the
scenario runs, unless `deploy=False` is given; paths are relative to the corpus root.

Contract:
- `CORPUS` is the corpus root; `corpus_params(part)` returns one `pytest.param` per
  executable MANIFEST row whose path starts with `part + "/"` (one skipped param with a
  reason when the corpus is absent); `run_row(row)` runs the row's scenario.
- `SCENARIOS: dict[path, Callable[[Ctx], None]]`, filled by `@scenario(...)`.
- `KNOWN_DIFFS: dict[path, reason]` is parsed from `KNOWN_DIFFS.md` next to this file: any
  bullet line "- `<corpus path>`: reason" (or " - reason"), in any section. A known diff is
  run anyway; when it fails with the failure pinned for it in `known_diffs.PINS` (error
  class and message, or the failing assertion) the test is xfailed with the reason; when
  it fails any other way, or passes, the test FAILS ("remove it from KNOWN_DIFFS.md").
- A row without a scenario fails with "no scenario written".
- Every corpus-row param carries the mark `corpus_row(path)`; `conftest.py` counts the
  distinct paths for the summary line `conformance: N/M executable diagrams pass` (a path
  passes when every collected test of it passed, so a second test per row, such as an
  oracle comparison, can use `corpus_params` too).

`Ctx` also offers: `task(name_or_id)`, `tasks(iid, **filters)` (engine task filters such as
`assignee=`, `claimable_by=(user, groups)`), `variables(iid)`, `instance(iid)`, `running()`,
`jobs(**filters)`, `run_jobs()`, `trigger(iid, activity_id, **vars)`, `subscriptions(**filters)`,
`external_tasks(topic)`, `add_user(user, *groups)`, and `clock` / `engine` themselves.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.service import Engine
from engine.testing import ManualClock

from .known_diffs import PINS, describe

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"
KNOWN_DIFFS_FILE = Path(__file__).with_name("KNOWN_DIFFS.md")


# ---------------------------------------------------------------------------- manifest
@dataclass(frozen=True, slots=True)
class Row:
    """One MANIFEST row (only the columns the replay needs)."""

    path: str
    elements: tuple[str, ...]
    executable: bool
    expected: str
    notes: str = ""

    @property
    def part(self) -> str:
        return self.path.split("/", 1)[0]


def load_manifest() -> list[Row]:
    """All MANIFEST rows (empty when the corpus is absent)."""
    if not MANIFEST.is_file():
        return []
    rows: list[Row] = []
    with MANIFEST.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f, delimiter="\t"):
            rows.append(Row(
                path=rec["path"],
                elements=tuple(e for e in (rec.get("elements") or "").split(",") if e),
                executable=(rec.get("executable") or "").strip() == "yes",
                expected=rec.get("expected_behaviour") or "",
                notes=rec.get("notes") or "",
            ))
    return rows


_DIFF_LINE = re.compile(r"^\s*[-*]\s+`(?P<path>[^`]+)`\s*(?::|—|–|-)\s*(?P<reason>.+?)\s*$")


def load_known_diffs(path: Path = KNOWN_DIFFS_FILE) -> dict[str, str]:
    """`{corpus path: reason}` from the bullet lines of KNOWN_DIFFS.md."""
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _DIFF_LINE.match(line)
        if m and "/" in m["path"]:
            out[m["path"]] = m["reason"]
    return out


KNOWN_DIFFS: dict[str, str] = load_known_diffs()


# ---------------------------------------------------------------------------- registry
Scenario = Callable[["Ctx"], None]


@dataclass(frozen=True, slots=True)
class Registered:
    fn: Scenario
    also: tuple[str, ...] = ()
    deploy: bool = True


SCENARIOS: dict[str, Scenario] = {}
_REGISTERED: dict[str, Registered] = {}


def scenario(path: str, also: Iterable[str] = (), deploy: bool = True) -> Callable[[Scenario], Scenario]:
    """Register `fn` as the replay of corpus file `path` (deployed with the `also` files)."""

    def wrap(fn: Scenario) -> Scenario:
        if path in SCENARIOS:
            raise ValueError(f"two scenarios for {path}")
        SCENARIOS[path] = fn
        _REGISTERED[path] = Registered(fn, tuple(also), deploy)
        return fn

    return wrap


# ---------------------------------------------------------------------------- context
@dataclass
class Ctx:
    """What a scenario drives: one fresh in-memory engine on a manual clock."""

    path: str
    clock: ManualClock = field(default_factory=ManualClock)
    engine: Engine = field(init=False)
    definitions: list[Any] = field(default_factory=list)
    main_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = Engine(clock=self.clock)

    # -- deployment and start
    def deploy(self, *rel_paths: str) -> list[Any]:
        """Deploy corpus files (paths relative to the corpus root) as one deployment."""
        defs = self.engine.deploy(*[CORPUS / p for p in rel_paths])
        self.definitions.extend(defs)
        main_name = Path(self.path).name
        for d in defs:
            if d.resource == main_name and d.key not in self.main_keys:
                self.main_keys.append(d.key)
        return defs

    def default_key(self) -> str:
        keys = [k for k in self.main_keys if self.engine.graph(self._def_id(k)).executable]
        if len(keys) != 1:
            raise AssertionError(f"{self.path}: cannot pick a default process among {keys!r}; "
                                 "pass the key to start()")
        return keys[0]

    def _def_id(self, key: str) -> str:
        return self.engine.definition(key).id

    def start(self, key: str | None = None, /, variables: dict[str, Any] | None = None, *,
              business_key: str | None = None, **kw: Any) -> str:
        """Start `key` (default: the main file's executable process) with variables."""
        vars_ = dict(variables or {})
        vars_.update(kw)
        return self.engine.start(key or self.default_key(), vars_, business_key=business_key)

    # -- user tasks
    def tasks(self, instance_id: str | None = None, **filters: Any) -> list[Any]:
        if instance_id is not None:
            filters["instance_id"] = instance_id
        return self.engine.tasks(**filters)

    def task_names(self, instance_id: str | None = None, **filters: Any) -> list[str]:
        """Sorted names of the open user tasks (activity id where a task has no name)."""
        return sorted((t.name or t.activity_id) for t in self.tasks(instance_id, **filters))

    def task(self, name_or_id: str, instance_id: str | None = None) -> Any:
        """The one open task whose name or activity id is `name_or_id`."""
        open_tasks = self.tasks(instance_id)
        hits = [t for t in open_tasks if name_or_id in (t.name, t.activity_id)]
        if len(hits) != 1:
            listing = ", ".join(f"{t.name!r}/{t.activity_id}" for t in open_tasks) or "none"
            raise AssertionError(f"expected exactly one open task {name_or_id!r}, found "
                                 f"{len(hits)}; open tasks: {listing}")
        return hits[0]

    def complete(self, name_or_id: str, /, instance_id: str | None = None, **variables: Any) -> None:
        """Complete the one open task named (or with activity id) `name_or_id`."""
        self.engine.complete_task(self.task(name_or_id, instance_id).id, variables)

    def add_user(self, user_id: str, *groups: str) -> None:
        """Create a staff user in `groups` (Camunda's identityService in the JUnit tests)."""
        add_user = getattr(self.engine, "add_user", None)
        if add_user is not None:
            add_user(user_id, None, "conformance-password", groups=groups)
            return
        from engine.store.records import UserRecord

        with self.engine.store.transaction() as tx:
            tx.add_user(UserRecord(user_id, user_id, "!", ["staff"], list(groups)))

    # -- instances
    def instance(self, iid: str) -> Any:
        return self.engine.instance(iid)

    def status(self, iid: str) -> str:
        return self.engine.instance(iid).status

    def waiting(self, iid: str) -> list[str]:
        return sorted(self.engine.instance(iid).waiting)

    def variables(self, iid: str) -> dict[str, Any]:
        return self.engine.instance(iid).variables

    def running(self) -> list[Any]:
        return self.engine.instances(status="running")

    def history_ids(self, iid: str, type: str = "activity_completed") -> list[str]:
        return [e.activity_id for e in self.engine.history(iid) if e.type == type]

    # -- events, time, outside workers
    def advance(self, delta: timedelta) -> int:
        """Move the clock and run every job now due; returns how many ran."""
        self.clock.advance(delta)
        return self.engine.run_due_jobs()

    def run_jobs(self) -> int:
        return self.engine.run_due_jobs()

    def jobs(self, **filters: Any) -> list[Any]:
        return self.engine.jobs(**filters)

    def message(self, name: str, business_key: str | None = None, **variables: Any) -> list[str]:
        return self.engine.correlate_message(name, business_key, variables)

    def signal(self, name: str, **variables: Any) -> list[str]:
        return self.engine.broadcast_signal(name, variables)

    def trigger(self, iid: str, activity_id: str, **variables: Any) -> None:
        """Move on a receive task / catch event (Camunda's runtimeService.signal)."""
        self.engine.trigger(iid, activity_id, variables)

    def subscriptions(self, **filters: Any) -> list[Any]:
        """Waiting message/signal subscriptions of instances (not start events)."""
        with self.engine.store.transaction() as tx:
            subs = tx.find_subscriptions(**filters)
        return [s for s in subs if s.instance_id is not None]

    def external_tasks(self, topic: str | None = None) -> list[Any]:
        return self.engine.external_tasks(topic)


# ---------------------------------------------------------------------------- parametrize
def corpus_params(part: str) -> list[Any]:
    """One `pytest.param(row, id=path)` per executable row of corpus `part`."""
    rows = [r for r in load_manifest() if r.executable and r.part == part]
    if not rows:
        return [pytest.param(None, id=f"{part}-corpus-absent", marks=pytest.mark.skip(
            reason=f"corpus not found at {CORPUS} (or it has no executable '{part}' rows)"))]
    return [pytest.param(r, id=r.path, marks=pytest.mark.corpus_row(r.path)) for r in rows]


def run_row(row: Row) -> None:
    """Replay `row`: fail when no scenario exists; xfail a listed known diff that fails."""
    reg = _REGISTERED.get(row.path)
    if reg is None:
        pytest.fail(f"no scenario written for {row.path} (expected: {row.expected})",
                    pytrace=False)
    known = KNOWN_DIFFS.get(row.path)
    pin = PINS.get(row.path)
    if known is not None and pin is None:
        pytest.fail(f"{row.path} is a known diff without a pinned failure: add the error "
                    "it fails with to tests/conformance/known_diffs.py", pytrace=False)
    ctx = Ctx(row.path)
    try:
        if reg.deploy:
            ctx.deploy(row.path, *reg.also)
        reg.fn(ctx)
    except (Exception, pytest.fail.Exception) as e:
        if known is not None:
            assert pin is not None
            wrong = pin.explain(e)
            if wrong is not None:
                raise AssertionError(f"{row.path} (a known diff) failed differently than "
                                     f"pinned in known_diffs.py: {wrong}") from e
            pytest.xfail(f"known diff: {known} [{describe(e)}]")
        raise
    if known is not None:
        pytest.fail(f"{row.path} passes now: remove it from KNOWN_DIFFS.md ({known})",
                    pytrace=False)
