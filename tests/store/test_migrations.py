"""Alembic migrations: an empty database upgrades to the schema the code expects (compared
column by column and index by index), a database holding data from the first revision
upgrades without losing it and keeps working, and `baton db upgrade` does the same from the
command line."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.cli import main as cli_main
from engine.service import Engine
from engine.store import migrate
from engine.store.schema import NOT_ON_MYSQL, VERSION_TABLE, metadata
from engine.store.sql import SqlStore, StoreError, normalize_url
from tests.databases import MARIADB, MariaDatabase
from tests.store.conftest import PG_DEFAULT, PG_ENV, with_search_path

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        MARIADB])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database (SQLite file, a fresh PostgreSQL schema, a fresh MariaDB
    database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/m.db"
        return
    if request.param == "mariadb":
        database = MariaDatabase.create("baton_mig", migrate=False)
        try:
            yield database.url
        finally:
            database.drop()
        return
    request.getfixturevalue("pg_url")          # skips with the reason when unreachable
    import os

    import psycopg

    base = os.environ.get(PG_ENV, PG_DEFAULT)
    schema = f"baton_mig_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(normalize_url(url))


def _differences(url: str) -> list[object]:
    """What the database lacks or has beyond `schema.metadata`. On MariaDB the deferred
    foreign keys are missing by design (it checks every foreign key at once, and a command
    inserts children before their new instance row): those are no difference."""
    eng = _engine(url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "version_table": VERSION_TABLE, "compare_type": True})
            found = compare_metadata(ctx, metadata)
            if conn.dialect.name in ("mysql", "mariadb"):
                found = [d for d in found if not _absent_on_mysql(d)]
            return found
    finally:
        eng.dispose()


# the foreign keys schema.py marks as absent on MariaDB
NOT_ON_MYSQL_FKS = {fk.constraint.name for table in metadata.tables.values()
                    for fk in table.foreign_keys if fk.info.get(NOT_ON_MYSQL)}


def _absent_on_mysql(diff: object) -> bool:
    return (isinstance(diff, tuple) and diff[0] == "add_fk"
            and diff[1].name in NOT_ON_MYSQL_FKS)


def test_an_empty_database_upgrades_to_the_schema_of_the_code(empty_url: str) -> None:
    eng = _engine(empty_url)
    try:
        assert migrate.current_revision(eng) is None
        with pytest.raises(StoreError, match="baton db upgrade"):
            SqlStore(empty_url, auto_upgrade=False)
        assert migrate.upgrade(eng) == migrate.head_revision()
        assert migrate.upgrade(eng) == migrate.head_revision()     # idempotent
    finally:
        eng.dispose()
    assert _differences(empty_url) == []
    store = SqlStore(empty_url, auto_upgrade=False)
    with store.transaction() as tx:
        assert tx.find_instances() == []
    store.close()


def _first_revision_rows(conn: sa.Connection) -> None:
    """Data as revision 0001 stored it: a deployed diagram with one instance waiting at a
    user task (state JSON as the engine wrote it)."""
    xml = (b'<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/'
           b'MODEL" targetNamespace="t"><process id="old" isExecutable="true"><startEvent '
           b'id="s"/><userTask id="t"/><endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" '
           b'targetRef="t"/><sequenceFlow id="f2" sourceRef="t" targetRef="e"/></process>'
           b'</definitions>')
    meta = sa.MetaData()
    meta.reflect(conn)
    t = meta.tables
    conn.execute(t["deployments"].insert(), {"id": "d1", "name": None, "time": T0,
                                            "resources": '["old.bpmn"]'})
    conn.execute(t["definitions"].insert(), {
        "id": "old:1:d1", "key": "old", "version": 1, "name": None, "xml": xml,
        "checksum": "c", "deployment_id": "d1", "resource": "old.bpmn", "deployed_at": T0,
        "executable": True, "has_start_form": False})
    state = ('{"v":1,"tokens":[[1,1,0,"waiting",0,false,"user"]],"scopes":[[0,"process",'
             'null,null,null,null,null]],"subs":[],"next_id":2,"status":"running","comp":[]}')
    conn.execute(t["instances"].insert(), {
        "id": "i1", "definition_id": "old:1:d1", "key": "old", "version": 1,
        "status": "running", "state": state, "variables": '{"amount":5}',
        "business_key": "B-1", "parent_id": None, "parent_token": None, "started": T0,
        "ended": None, "revision": 3})
    conn.execute(t["tasks"].insert(), {
        "id": "task1", "instance_id": "i1", "token": 1, "activity_id": "t", "name": None,
        "definition_key": "old", "definition_id": "old:1:d1", "assignee": None,
        "candidate_users": "[]", "candidate_groups": '["g"]', "due": None, "follow_up": None,
        "priority": 50, "form_key": None, "created": T0, "business_key": "B-1",
        "process_name": None, "owner": None, "delegation": None, "escalated": 0,
        "note": None, "lane": None, "claimed": None, "revision": 0})
    conn.execute(t["task_candidates"].insert(), {"kind": "group", "name": "g",
                                                "task_id": "task1"})
    conn.execute(t["history"].insert(), {
        "instance_id": "i1", "time": T0,
        "events": '[["process_started","old","2026-01-01T00:00:00+00:00",null,null,null,'
                  'null,null]]'})


def test_data_from_the_first_revision_survives_the_upgrade_and_keeps_working(
        empty_url: str) -> None:
    eng = _engine(empty_url)
    try:
        migrate.upgrade(eng, "0001")
        assert migrate.current_revision(eng) == "0001"
        with eng.begin() as conn:
            _first_revision_rows(conn)
        assert migrate.upgrade(eng) == migrate.head_revision()
        indexes = {ix["name"] for ix in sa.inspect(eng).get_indexes("tasks")}
        assert {"ix_tasks_due", "ix_tasks_priority"} <= indexes
    finally:
        eng.dispose()
    engine = Engine(store=SqlStore(empty_url, auto_upgrade=False))
    view = engine.instance("i1")
    assert (view.status, view.waiting, view.variables, view.business_key) == \
        ("running", ["t"], {"amount": 5}, "B-1")
    (task,) = engine.tasks(candidate_groups=["g"])
    engine.complete_task(task.id, {"ok": True})
    assert engine.instance("i1").status == "completed"
    assert [h.type for h in engine.history("i1")][0] == "process_started"
    engine.store.close()


def test_baton_db_upgrade_migrates_and_reports(empty_url: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["db", "upgrade", "--db", empty_url]) == 0
    assert "upgraded from empty to" in capsys.readouterr().out
    assert cli_main(["db", "upgrade", "--db", empty_url]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert cli_main(["db", "current", "--db", empty_url]) == 0
    assert "up to date" in capsys.readouterr().out


def test_baton_db_upgrade_names_an_unreachable_database(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["db", "upgrade", "--db", "postgresql://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err
    assert "cannot upgrade" in err and "127.0.0.1" in err


def test_stores_opening_a_fresh_sqlite_file_at_once_all_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    opened: list[object] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        barrier.wait()
        opened.append(SqlStore(url))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(opened) == 4
    assert _differences(url) == []
