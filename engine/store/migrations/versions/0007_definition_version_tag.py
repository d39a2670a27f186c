"""A version tag on process definitions (the process's `camunda:versionTag`).

Camunda 7 clients select definitions by it (`GET /process-definition?versionTag=`,
`versionTagLike`), external task workers fetch by it (`processDefinitionVersionTag`) and
the REST answers carry it. It is read from the process element at deployment; definitions
deployed before this revision get it here, read from their stored XML, so an upgraded
database answers as a fresh one would.

The XML is read with a parser that resolves no entity and fetches nothing (the files were
checked at deployment; this is only defence in depth). The namespaces are written out
rather than imported from the BPMN parser: a migration is a snapshot of its day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-01-08
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
VENDORS = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn",
           "http://flowable.org/bpmn")
MAX_TAG = 255


def version_tag(xml: Any, key: str) -> str | None:
    """The versionTag attribute of process `key` in a stored file; None when there is none
    or the file is not BPMN (a DMN decision)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(bytes(xml), parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") != key:
            continue
        for uri in VENDORS:
            tag = process.get(f"{{{uri}}}versionTag")
            if tag is not None:
                return tag[:MAX_TAG]
    return None


def upgrade() -> None:
    # VARCHAR(255) on MariaDB, which wants a length (as the other columns of the table)
    op.add_column("definitions", sa.Column(
        "version_tag", sa.String().with_variant(sa.String(MAX_TAG), "mysql", "mariadb"),
        nullable=True))
    definitions = sa.table("definitions", sa.column("id", sa.String()),
                           sa.column("key", sa.String()), sa.column("xml", sa.LargeBinary()),
                           sa.column("version_tag", sa.String()))
    conn = op.get_bind()
    tags = {}
    for row in conn.execute(sa.select(definitions.c.id, definitions.c.key,
                                      definitions.c.xml)):
        tag = version_tag(row.xml, row.key)
        if tag is not None:
            tags[row.id] = tag
    for def_id, tag in tags.items():
        conn.execute(definitions.update().where(definitions.c.id == def_id)
                     .values(version_tag=tag))


def downgrade() -> None:
    with op.batch_alter_table("definitions") as batch:
        batch.drop_column("version_tag")
