"""Opening the store and migrating its schema, as an operator meets them."""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import MetaData, text

from handoff_sync.store import SchemaOutdated, Store, StoreError, redact_url, sqlite_url_for
from handoff_sync.store.schema import Base
from tests.store_support import PG_ADMIN_URL, _database_url, require_postgres


def test_migrate_creates_the_schema_once_and_the_daemon_check_passes(store_url: str) -> None:
    with Store.connect(store_url) as store:
        assert store.schema_revision() is None
        with pytest.raises(SchemaOutdated) as refused:
            store.require_current_schema()
        assert str(refused.value) == (
            f"the database {store.url} has no handoff-sync tables; this version needs "
            "revision 0013_state_serial: run `handoff-sync migrate --config FILE`")
        assert store.migrate() == ["0001", "0002_budget", "0003_crm_claims",
                                   "0004_field_holds", "0005_stage_autopilot",
                                   "0006_handoff_decisions", "0007_partner_accounts",
                                   "0008_handoff_baselines", "0009_mapping_audit",
                                   "0010_sync_requests", "0011_review_names",
                                   "0012_store_footprint", "0013_state_serial"]
        assert Store.head_revision() == "0013_state_serial"
        assert store.migrate() == []
        store.require_current_schema()
        assert store.schema_revision() == "0013_state_serial"
        assert Store.revision_label("0001") == "0001_initial"
        assert Store.revision_label("0002_budget") == "0002_budget"


def test_models_and_migrated_schema_agree(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        # The comparison does look at the tables: against no models, every one differs.
        removed = {diff[1].name for diff in compare_metadata(context, MetaData())
                   if diff[0] == "remove_table"}
        assert removed == set(Base.metadata.tables)


def test_a_schema_from_a_newer_version_is_refused(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042'"))
    with pytest.raises(SchemaOutdated, match="at revision 0042, which this version of "
                                             "handoff-sync does not know"):
        store.require_current_schema()
    with pytest.raises(SchemaOutdated, match="does not know"):
        store.migrate()


def test_an_unreachable_database_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError) as refused:
        Store.connect("postgresql://sync:s3cret@127.0.0.1:1/handoff")
    message = str(refused.value)
    assert message.startswith("cannot open the database "
                              "postgresql+psycopg://sync:***@127.0.0.1:1/handoff: ")
    assert "s3cret" not in message and "refused" in message.lower()


@pytest.mark.parametrize(("url", "message"), [
    ("handoff.db", "not a database URL: 'handoff.db'; use sqlite:///"),
    ("mysql://root@localhost/handoff", "unsupported database mysql://root@localhost/handoff"),
])
def test_urls_it_cannot_use_are_named(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.connect(url)


def test_a_sqlite_file_gets_its_folder_and_wal_mode(tmp_path: Path) -> None:
    file = tmp_path / "state" / "deep" / "handoff-sync.db"
    with Store.connect(sqlite_url_for(file)) as store:
        store.migrate()
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert file.is_file()
    (tmp_path / "blocked").write_text("a file, not a folder")
    with pytest.raises(StoreError, match="cannot create the folder for the database"):
        Store.connect(sqlite_url_for(tmp_path / "blocked" / "x.db"))


def test_urls_are_shown_without_passwords() -> None:
    assert redact_url("postgresql+psycopg://sync:s3cret@db:5432/hs") == (
        "postgresql+psycopg://sync:***@db:5432/hs")
    assert redact_url("postgresql://sync@db/hs") == "postgresql://sync@db/hs"
    assert redact_url("not a url://sync:s3cret@db") == "not a url://sync:***@db"
    assert sqlite_url_for(Path("/var/lib/hs/state.db")) == "sqlite:////var/lib/hs/state.db"
    assert repr(Store.connect("sqlite://")) == "Store(sqlite://)"


def test_without_postgresql_its_store_tests_skip_locally_but_fail_in_ci(
        monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = "postgresql://postgres@127.0.0.1:1/test"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        require_postgres(nowhere)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL store tests"):
        require_postgres(nowhere)


def test_a_sql_ascii_postgres_database_migrates_and_keeps_text() -> None:
    """A database created without an encoding (SQL_ASCII, e.g. initdb under the C locale)
    hands text back as bytes unless the client asks for UTF-8: migrate died with a
    TypeError inside SQLAlchemy. Text written and read back stays the same text."""
    require_postgres()
    name = f"hs_ascii_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} ENCODING 'SQL_ASCII' TEMPLATE template0 "
                              "LC_COLLATE 'C' LC_CTYPE 'C'").format(sql.Identifier(name)))
    try:
        store = Store.connect(_database_url(name))
        try:
            assert store.migrate()  # revisions applied
            assert store.schema_problem() is None
            with store.engine.connect() as connection:
                assert connection.execute(text("SELECT :t"), {"t": "Zoë Müller"}).scalar() \
                    == "Zoë Müller"
        finally:
            store.close()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))
