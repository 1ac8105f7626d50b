"""The packaged Alembic migrations build exactly the schema the adapter's ``metadata`` describes,
can be undone, and can run inside a host application's own Alembic history."""

from __future__ import annotations

import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from ticketkit.adapters.sqlalchemy import downgrade, metadata, upgrade
from ticketkit.adapters.sqlalchemy.migrate import VERSION_TABLE
from ticketkit.adapters.sqlalchemy.tables.base import PREFIX

TICKETKIT_TABLES = frozenset(metadata.tables)
HEAD = "ticketkit_0014"


def schema_diff(engine: sa.Engine, target: sa.MetaData = metadata) -> list[Any]:
    """Alembic's autogenerate comparison of the live database with ``target``."""

    def ours(name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "table" or name in TICKETKIT_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": ours}
        )
        return list(compare_metadata(context, target))


def table_names(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def versions(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalars())


def test_upgrade_from_empty_builds_exactly_the_metadata_schema(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    assert table_names(empty_engine) >= TICKETKIT_TABLES
    assert schema_diff(empty_engine) == []
    assert versions(empty_engine, VERSION_TABLE) == {HEAD}


def test_schema_comparison_notices_a_missing_index_and_column(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    changed = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    tickets = changed.tables["ticketkit_tickets"]
    tickets.append_column(sa.Column("extra", sa.Integer(), nullable=True))
    tickets.indexes.discard(
        next(
            i
            for i in tickets.indexes
            if i.name == "ix_ticketkit_tickets_tenant_id_assignee_id_updated_at_id"
        )
    )
    kinds = {diff[0] for diff in schema_diff(empty_engine, changed)}
    assert {"add_column", "remove_index"} <= kinds


def test_upgrade_twice_is_a_no_op(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)
    assert versions(empty_engine, VERSION_TABLE) == {HEAD}


def test_downgrade_to_base_leaves_no_ticketkit_table(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine)
    assert table_names(empty_engine) & TICKETKIT_TABLES == set()
    # Alembic keeps its (now empty) version table, as for any history at base.
    assert versions(empty_engine, VERSION_TABLE) == set()


def _host_project(tmp_path: Path) -> Path:
    """A host application's Alembic project: its own env.py and one revision."""
    root = tmp_path / "host_migrations"
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        textwrap.dedent(
            """
            from alembic import context

            connection = context.config.attributes["connection"]
            context.configure(connection=connection, target_metadata=None)
            with context.begin_transaction():
                context.run_migrations()
            """
        )
    )
    (root / "versions" / "host_0001_widgets.py").write_text(
        textwrap.dedent(
            '''
            """Host app: widgets."""
            import sqlalchemy as sa
            from alembic import op

            revision = "host_0001"
            down_revision = None
            branch_labels = ("host",)
            depends_on = None


            def upgrade():
                op.create_table("host_widgets", sa.Column("id", sa.Integer, primary_key=True))


            def downgrade():
                op.drop_table("host_widgets")
            '''
        )
    )
    return root


def _host_config(root: Path, connection: sa.Connection, *, with_ticketkit: bool) -> Config:
    config = Config()
    config.set_main_option("script_location", str(root))
    config.set_main_option("path_separator", "space")
    locations = [str(root / "versions")]
    if with_ticketkit:
        locations.append("ticketkit.adapters.sqlalchemy:migrations/versions")
    config.set_main_option("version_locations", " ".join(locations))
    config.attributes["connection"] = connection
    return config


def test_host_app_applies_ticketkit_branch_beside_its_own_history(
    empty_engine: sa.Engine, tmp_path: Path
) -> None:
    root = _host_project(tmp_path)
    with empty_engine.begin() as conn:
        command.upgrade(_host_config(root, conn, with_ticketkit=True), "heads")
    assert {"host_widgets", *TICKETKIT_TABLES} <= table_names(empty_engine)
    assert versions(empty_engine, "alembic_version") == {"host_0001", HEAD}
    assert schema_diff(empty_engine) == []
    with empty_engine.begin() as conn:
        command.downgrade(_host_config(root, conn, with_ticketkit=True), "ticketkit@base")
    assert table_names(empty_engine) & TICKETKIT_TABLES == set()
    assert "host_widgets" in table_names(empty_engine)
    assert versions(empty_engine, "alembic_version") == {"host_0001"}


def test_ticketkit_upgrade_keeps_its_own_version_table_beside_a_host_history(
    empty_engine: sa.Engine, tmp_path: Path
) -> None:
    root = _host_project(tmp_path)
    with empty_engine.begin() as conn:
        command.upgrade(_host_config(root, conn, with_ticketkit=False), "heads")
    upgrade(empty_engine)
    assert versions(empty_engine, "alembic_version") == {"host_0001"}
    assert versions(empty_engine, VERSION_TABLE) == {HEAD}
    assert schema_diff(empty_engine) == []


# -- ticketkit's own names ---------------------------------------------------------------

#: PostgreSQL cuts longer names (SQLAlchemy would shorten them with a hash of its own).
POSTGRES_NAME_LIMIT = 63


def metadata_names() -> dict[str, set[str]]:
    """Every index and constraint name of ``metadata``, by table."""
    return {
        t.name: {str(x.name) for x in [*t.constraints, *t.indexes]} for t in metadata.sorted_tables
    }


def migrated_names(engine: sa.Engine) -> dict[str, set[str]]:
    """Every index and constraint name the database reports, by ticketkit table."""
    found: dict[str, set[str]] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in TICKETKIT_TABLES:
            names = {inspector.get_pk_constraint(table)["name"]}
            names |= {fk["name"] for fk in inspector.get_foreign_keys(table)}
            names |= {ix["name"] for ix in inspector.get_indexes(table)}
            names |= {uq["name"] for uq in inspector.get_unique_constraints(table)}
            names |= {ck["name"] for ck in inspector.get_check_constraints(table)}
            found[table] = {str(n) for n in names}
    return found


def test_every_table_index_and_constraint_carries_ticketkit_s_prefix() -> None:
    assert TICKETKIT_TABLES, "no tables to check"
    for table, names in metadata_names().items():
        assert table.startswith(PREFIX), table
        for name in names:
            kind, _, rest = name.partition("_")
            assert kind in {"pk", "fk", "ix", "uq", "ck"} and rest.startswith(table), name
            assert len(name) <= POSTGRES_NAME_LIMIT, name


def test_the_migration_names_every_index_and_constraint_as_the_metadata_does(
    empty_engine: sa.Engine,
) -> None:
    upgrade(empty_engine)
    assert migrated_names(empty_engine) == metadata_names()


# -- beside a host's own tables ------------------------------------------------------------

#: A host application's tables named like ticketkit's (unprefixed) ones, keys and indexes
#: named by the convention ticketkit itself used before its prefix.
HOST = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
HOST_PROJECTS = sa.Table(
    "projects",
    HOST,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
)
HOST_COMMENTS = sa.Table(
    "comments",
    HOST,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("body", sa.String(200), nullable=False),
    sa.Index(None, "project_id"),
)
HOST_ROWS = {
    "projects": [{"id": 1, "name": "Website relaunch"}],
    "comments": [{"id": 7, "project_id": 1, "body": "Looks good"}],
}


def host_rows(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            t.name: [dict(r) for r in conn.execute(sa.select(t).order_by(t.c.id)).mappings()]
            for t in (HOST_PROJECTS, HOST_COMMENTS)
        }


def host_names(engine: sa.Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            t: {
                str(inspector.get_pk_constraint(t)["name"]),
                *(str(ix["name"]) for ix in inspector.get_indexes(t)),
            }
            for t in HOST.tables
        }


@pytest.mark.parametrize("how", ["upgrade", "host_alembic"])
def test_ticketkit_migrates_beside_a_host_s_own_projects_and_comments(
    empty_engine: sa.Engine, tmp_path: Path, how: str
) -> None:
    """A host with its own ``projects`` and ``comments`` applies ticketkit's migrations
    (by ``upgrade`` or through its own Alembic) and removes them again: its tables, their
    rows, keys and indexes stay as they were."""
    HOST.create_all(empty_engine)
    with empty_engine.begin() as conn:
        for table in (HOST_PROJECTS, HOST_COMMENTS):
            conn.execute(table.insert(), HOST_ROWS[table.name])
    names_before = host_names(empty_engine)
    root = _host_project(tmp_path)

    if how == "upgrade":
        upgrade(empty_engine)
    else:
        with empty_engine.begin() as conn:
            command.upgrade(_host_config(root, conn, with_ticketkit=True), "heads")
    assert table_names(empty_engine) >= {"projects", "comments", *TICKETKIT_TABLES}
    assert schema_diff(empty_engine) == []
    assert host_rows(empty_engine) == HOST_ROWS
    assert host_names(empty_engine) == names_before

    if how == "upgrade":
        downgrade(empty_engine)
    else:
        with empty_engine.begin() as conn:
            command.downgrade(_host_config(root, conn, with_ticketkit=True), "ticketkit@base")
    assert table_names(empty_engine) & TICKETKIT_TABLES == set()
    assert {"projects", "comments"} <= table_names(empty_engine)
    assert host_rows(empty_engine) == HOST_ROWS
    assert host_names(empty_engine) == names_before


@pytest.mark.parametrize("resource", ["env.py", "script.py.mako", "versions/0001_initial.py"])
def test_migrations_are_package_resources_alembic_can_locate(resource: str) -> None:
    assert (resources.files("ticketkit.adapters.sqlalchemy") / "migrations" / resource).is_file()


def test_the_event_tally_migration_counts_existing_tickets_events(empty_engine: sa.Engine) -> None:
    """0002 adds each ticket's event tally; tickets written before it get theirs counted
    from their events: the same tally the application kept while writing them."""
    from datetime import UTC, datetime

    from tests.support.world import build_world
    from ticketkit import CommentDraft, HelpDesk, ManualClock, Visibility
    from ticketkit.adapters.sqlalchemy import SqlStorage

    upgrade(empty_engine)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    w = build_world(HelpDesk(SqlStorage(empty_engine), clock=clock), clock)
    t = w.desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    w.desk.assign(
        w.agent.actor,
        t.id,
        w.agent.id,
        comment=CommentDraft(body="Mine", visibility=Visibility.INTERNAL),
    )
    w.desk.change_status(w.agent.actor, t.id, "open")

    def tallies() -> dict[object, object]:
        with SqlStorage(empty_engine).unit_of_work(w.admin.tenant_id) as uow:
            found = uow.tickets.get(t.id)
            assert found is not None
            return found.event_tally

    kept = tallies()
    assert sum(kept.values()) == 4
    downgrade(empty_engine, "ticketkit_0001")
    with empty_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("ticketkit_tickets")}
    assert "event_tally" not in columns
    upgrade(empty_engine)
    assert tallies() == kept
    assert w.desk.get_ticket(w.acme_guest.actor, t.id).version == 2


def test_the_project_numbers_migration_keeps_numbers_and_counts_on_per_project(
    empty_engine: sa.Engine,
) -> None:
    """0003 numbers tickets per project: tickets keep their numbers (and their comments,
    though SQLite rebuilds the table under them), each project's counter goes on from its
    highest number; going back is refused once two projects share a number."""
    from datetime import UTC, datetime

    from tests.support.world import build_world
    from ticketkit import HelpDesk, ManualClock, Visibility
    from ticketkit.adapters.sqlalchemy import SqlStorage

    upgrade(empty_engine)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    w = build_world(HelpDesk(SqlStorage(empty_engine), clock=clock), clock)

    def open_in(project_id: object) -> int:
        t = w.desk.create_ticket(
            w.agent.actor,
            project_id=project_id,
            type_id=w.incident.id,
            title="Down",
            fields={"sla_level": "Gold"},
        )
        w.desk.add_comment(w.agent.actor, t.id, "On it", visibility=Visibility.PUBLIC)
        return t.number

    assert [open_in(w.acme_project.id) for _ in range(3)] == [1, 2, 3]
    downgrade(empty_engine, "ticketkit_0002")  # no number is shared yet: allowed
    with empty_engine.connect() as conn:
        counters = conn.execute(sa.text("SELECT last_number FROM ticketkit_ticket_counters"))
        assert counters.scalars().all() == [3]
    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    assert open_in(w.acme_project.id) == 4
    assert open_in(w.globex_project.id) == 1
    page = w.desk.list_tickets(w.acme_guest.actor, limit=10)
    assert [(t.number, t.comment_count) for t in page.items] == [(n, 1) for n in (4, 3, 2, 1)]
    with pytest.raises(RuntimeError, match="share ticket numbers"):
        downgrade(empty_engine, "ticketkit_0002")
    assert versions(empty_engine, VERSION_TABLE) == {HEAD}, "the refused downgrade undid itself"


def test_the_groups_migration_keeps_existing_tickets_and_undoes_cleanly(
    empty_engine: sa.Engine,
) -> None:
    """0004 adds groups, their members and projects, ticket followers and the tickets'
    ``group_id`` (with its foreign key): tickets written before it have no group, and going
    back to 0002 drops all of it and keeps the tickets and their history."""
    import uuid
    from datetime import UTC, datetime

    from tests.support.world import build_world
    from ticketkit import HelpDesk, ManualClock
    from ticketkit.adapters.sqlalchemy import SqlStorage

    upgrade(empty_engine)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(empty_engine), clock=clock)
    w = build_world(desk, clock)
    group = desk.create_group(
        w.admin.actor, name="First line", member_ids=[w.agent.id], project_ids=[w.acme_project.id]
    )
    t = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    desk.add_follower(w.agent.actor, t.id, w.agent2.id)
    assert desk.get_ticket(w.agent.actor, t.id).group_id == group.id

    new_tables = {
        "ticketkit_groups",
        "ticketkit_group_members",
        "ticketkit_group_projects",
        "ticketkit_ticket_followers",
    }
    downgrade(empty_engine, "ticketkit_0003")
    assert table_names(empty_engine) & new_tables == set()
    with empty_engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert "group_id" not in {c["name"] for c in inspector.get_columns("ticketkit_tickets")}
        assert all(
            fk["referred_table"] != "ticketkit_groups"
            for fk in inspector.get_foreign_keys("ticketkit_tickets")
        )
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("ticketkit_tickets", "ticketkit_events", "ticketkit_notifications")
        ]
    assert counts[0] == 1 and counts[1] == 3, "created, group assigned, follower added"

    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    assert migrated_names(empty_engine) == metadata_names()
    assert desk.get_ticket(w.agent.actor, t.id).group_id is None
    assert desk.list_groups(w.agent.actor) == []
    # The new reference holds: a ticket cannot name a group that does not exist.
    tickets = metadata.tables["ticketkit_tickets"]
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as conn:
        conn.execute(tickets.update().values(group_id=uuid.uuid4()))


def test_the_unique_email_migration_refuses_shared_addresses_and_lower_cases(
    empty_engine: sa.Engine,
) -> None:
    """0005 adds one-person-per-address: with two people of a tenant sharing an address
    (compared case-insensitively) it stops, naming them, and changes nothing; once they
    differ it lower-cases what was stored otherwise and the database refuses a duplicate."""
    from datetime import UTC, datetime
    from importlib import import_module

    from tests.support.world import build_world
    from ticketkit import HelpDesk, ManualClock
    from ticketkit.adapters.sqlalchemy import SqlStorage
    from ticketkit.adapters.sqlalchemy.tables.directory import persons

    mine = import_module("ticketkit.adapters.sqlalchemy.migrations.versions.0005_unique_email")
    before = str(mine.down_revision)
    upgrade(empty_engine)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    w = build_world(HelpDesk(SqlStorage(empty_engine), clock=clock), clock)
    downgrade(empty_engine, before)

    def set_email(person_id: object, email: str) -> None:
        with empty_engine.begin() as conn:
            conn.execute(persons.update().where(persons.c.id == person_id).values(email=email))

    def indexes() -> set[str]:
        with empty_engine.connect() as conn:
            return {str(i["name"]) for i in sa.inspect(conn).get_indexes("ticketkit_persons")}

    set_email(w.agent2.id, w.agent.email.upper())
    # Alembic loads the revision as a module of its own: its class, by name.
    with pytest.raises(RuntimeError, match=str(w.agent2.id)) as caught:
        upgrade(empty_engine)
    assert type(caught.value).__name__ == "DuplicateEmails"
    assert str(w.agent.id) in str(caught.value) and w.agent.email not in str(caught.value)
    assert versions(empty_engine, VERSION_TABLE) == {before}
    assert mine.INDEX not in indexes()

    set_email(w.agent2.id, "Bob.Other@X.Example")
    upgrade(empty_engine)
    assert versions(empty_engine, VERSION_TABLE) == {HEAD}
    assert mine.INDEX in indexes()
    assert schema_diff(empty_engine) == []
    with SqlStorage(empty_engine).unit_of_work(w.admin.tenant_id) as uow:
        stored = uow.persons.get(w.agent2.id)
        assert stored is not None and stored.email == "bob.other@x.example"
    with pytest.raises(sa.exc.IntegrityError):
        set_email(w.agent2.id, w.agent.email)
    # Another tenant may have the same address.
    other = build_world(HelpDesk(SqlStorage(empty_engine), clock=clock), clock, name="Other")
    assert other.agent.email == w.agent.email

    downgrade(empty_engine, before)
    assert mine.INDEX not in indexes()


def test_the_settings_migration_adds_both_tables_and_undoes_cleanly(
    empty_engine: sa.Engine,
) -> None:
    """0007 adds the tenant's setting values and organisations' overrides: values set
    through the operations are stored there, the override refers to its organisation, and
    going back to 0006 drops both tables and keeps everything else."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from tests.support.world import build_world
    from ticketkit import HelpDesk, ManualClock
    from ticketkit.adapters.sqlalchemy import SqlStorage

    upgrade(empty_engine)
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(empty_engine), clock=clock)
    w = build_world(desk, clock)
    desk.set_setting(w.admin.actor, "invitations.expiry", 3600)
    desk.set_setting(w.admin.actor, "branding.logo_url", None, organisation_id=w.acme.id)
    new_tables = {"ticketkit_tenant_settings", "ticketkit_organisation_settings"}

    downgrade(empty_engine, "ticketkit_0006")
    assert table_names(empty_engine) & new_tables == set()
    with empty_engine.connect() as conn:
        people = conn.execute(sa.text("SELECT count(*) FROM ticketkit_persons")).scalar_one()
    assert people == len(w.everyone)

    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    assert migrated_names(empty_engine) == metadata_names()
    assert desk.effective_setting(w.acme_guest.actor, "invitations.expiry") == timedelta(days=7)
    # The override refers to an organisation of its tenant.
    overrides = metadata.tables["ticketkit_organisation_settings"]
    row = {
        "tenant_id": w.admin.tenant_id,
        "organisation_id": uuid.uuid4(),
        "name": "branding.logo_url",
        "value": None,
        "updated_at": clock.now(),
        "updated_by": w.admin.id,
    }
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as conn:
        conn.execute(overrides.insert().values(**row))


def test_the_grants_migration_numbers_existing_projects_by_creation_order_per_tenant(
    empty_engine: sa.Engine,
) -> None:
    """0008 numbers the projects that exist, 1, 2, 3 … per tenant in the order they were
    created (then by insertion), adds the grants table, and going back to 0007 drops both
    the numbers and the grants and keeps the projects."""
    import uuid
    from datetime import UTC, datetime, timedelta

    upgrade(empty_engine, "ticketkit_0007")
    t = metadata.tables
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tenants = [uuid.uuid4(), uuid.uuid4()]
    # (tenant, minutes after start, ordinal): created out of insertion order, one tie.
    projects = {
        uuid.uuid4(): (tenants[0], 30, 1),
        uuid.uuid4(): (tenants[0], 10, 2),
        uuid.uuid4(): (tenants[0], 30, 3),
        uuid.uuid4(): (tenants[1], 5, 4),
    }
    with empty_engine.begin() as conn:
        for n, tenant in enumerate(tenants):
            conn.execute(
                t["ticketkit_tenants"].insert().values(tenant_id=tenant, name="T", created_at=start)
            )
            conn.execute(
                t["ticketkit_organisations"]
                .insert()
                .values(
                    tenant_id=tenant,
                    id=tenant,
                    name="O",
                    kind="customer",
                    created_at=start,
                    ordinal=n,
                )
            )
        for ident, (tenant, minutes, ordinal) in projects.items():
            conn.execute(
                t["ticketkit_projects"]
                .insert()
                .values(
                    tenant_id=tenant,
                    id=ident,
                    organisation_id=tenant,
                    name="P",
                    created_at=start + timedelta(minutes=minutes),
                    ordinal=ordinal,
                )
            )
    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    with empty_engine.connect() as conn:
        rows = conn.execute(
            sa.select(t["ticketkit_projects"].c.id, t["ticketkit_projects"].c.number)
        )
        numbers = {row.id: row.number for row in rows}
    ids = list(projects)
    assert [numbers[i] for i in ids] == [2, 1, 3, 1]

    downgrade(empty_engine, "ticketkit_0007")
    assert "ticketkit_grants" not in table_names(empty_engine)
    with empty_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("ticketkit_projects")}
        count = conn.execute(sa.text("SELECT count(*) FROM ticketkit_projects")).scalar_one()
    assert "number" not in columns and count == len(projects)
    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    assert migrated_names(empty_engine) == metadata_names()


def test_the_sla_migration_adds_its_tables_which_go_with_their_tickets_and_undoes_cleanly(
    empty_engine: sa.Engine,
) -> None:
    """0012 adds SLA's five tables: the database keeps one default calendar per tenant,
    a ticket's clocks, firings and deferred actions are deleted with it, and going back to
    0011 drops the five tables and keeps the tickets."""
    import uuid
    from datetime import timedelta

    from tests.support.records import NOW, seed, ticket
    from tests.support.sla import action, calendar, clocks, policy
    from ticketkit.adapters.sqlalchemy import SqlStorage

    sla_tables = {
        "ticketkit_sla_calendars",
        "ticketkit_sla_policies",
        "ticketkit_sla_clocks",
        "ticketkit_sla_firings",
        "ticketkit_sla_actions",
    }
    upgrade(empty_engine)
    storage = SqlStorage(empty_engine)
    s = seed(storage)
    kept, dropped = ticket(s, 1), ticket(s, 2)

    def write_sla() -> None:
        with storage.unit_of_work(s.tenant) as uow:
            uow.calendars.add(calendar(s, "Office", is_default=True))
            uow.sla_policies.add(policy(s))
            for t in (kept, dropped):
                uow.clocks.put(clocks(s, t.id, next_firing_at=NOW))
                uow.clocks.record_firing(t.id, "first_response:1:breach", NOW)
                uow.sla_actions.add(action(s, t.id, NOW + timedelta(hours=1)))
            uow.commit()

    def counts() -> dict[str, int]:
        with empty_engine.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in sorted(sla_tables | {"ticketkit_tickets"})
            }

    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(kept)
        uow.tickets.add(dropped)
        uow.commit()
    write_sla()
    downgrade(empty_engine, "ticketkit_0011")
    assert table_names(empty_engine) & sla_tables == set()
    with empty_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ticketkit_tickets")).scalar_one() == 2

    upgrade(empty_engine)
    assert schema_diff(empty_engine) == []
    assert migrated_names(empty_engine) == metadata_names()
    write_sla()
    assert set(counts().values()) == {1, 2}
    tickets = metadata.tables["ticketkit_tickets"]
    with empty_engine.begin() as conn:
        conn.execute(tickets.delete().where(tickets.c.id == dropped.id))
    assert counts() == {
        "ticketkit_sla_actions": 1,
        "ticketkit_sla_calendars": 1,
        "ticketkit_sla_clocks": 1,
        "ticketkit_sla_firings": 1,
        "ticketkit_sla_policies": 1,
        "ticketkit_tickets": 1,
    }
    # One default calendar per tenant, whoever writes the rows.
    calendars = metadata.tables["ticketkit_sla_calendars"]
    row = {
        "tenant_id": s.tenant,
        "id": uuid.uuid4(),
        "name": "Second default",
        "organisation_id": None,
        "is_default": True,
        "definition": {},
    }
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as conn:
        conn.execute(calendars.insert().values(**row))
    with empty_engine.begin() as conn:
        conn.execute(calendars.insert().values(**{**row, "is_default": False}))
