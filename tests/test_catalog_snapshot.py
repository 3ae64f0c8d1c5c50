"""tests/catalog.py: schema snapshots compare equal exactly when the schemas are the same."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from tests.catalog import KINDS, data_fingerprint, diff, snapshot
from tests.dev import devdb

# Every kind of object the snapshot reads, in one small schema.
SCHEMA_HEAD = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN title_text AS text CONSTRAINT title_text_not_blank CHECK (VALUE <> '');
CREATE TYPE pair AS (first integer, second text);
CREATE SEQUENCE ticket_seq START 100 INCREMENT 5;
CREATE TABLE author (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
"""
POST_TABLE = """
CREATE TABLE post (
    id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES author (id) ON DELETE CASCADE,
    title title_text NOT NULL CONSTRAINT post_title_check CHECK (length(title) < 200),
    mood mood NOT NULL DEFAULT 'ok',
    created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00',
    words integer NOT NULL DEFAULT 0,
    title_len integer GENERATED ALWAYS AS (length(title)) STORED,
    ticket integer DEFAULT nextval('ticket_seq')
) WITH (fillfactor = 90);
"""
SCHEMA_TAIL = """
CREATE INDEX post_author_idx ON post (author_id, created_at DESC);
CREATE FUNCTION touch_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.words := coalesce(array_length(regexp_split_to_array(NEW.title, '\\s+'), 1), 0);
    RETURN NEW;
END
$$;
CREATE TRIGGER post_touch BEFORE INSERT OR UPDATE ON post
    FOR EACH ROW EXECUTE FUNCTION touch_post();
CREATE FUNCTION post_count(p_author bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM post WHERE author_id = p_author
$$;
CREATE FUNCTION longer(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN length(b) > length(coalesce(a, '')) THEN b ELSE a END $$;
CREATE AGGREGATE longest(text) (SFUNC = longer, STYPE = text);
CREATE VIEW post_summary AS
    SELECT p.id, a.name AS author, p.title, p.title_len, p.created_at
      FROM post p JOIN author a ON a.id = p.author_id;
CREATE MATERIALIZED VIEW post_per_author AS
    SELECT author_id, count(*) AS posts FROM post GROUP BY author_id;
COMMENT ON TABLE post IS 'Blog posts';
COMMENT ON COLUMN post.title IS 'Shown as the heading';
COMMENT ON FUNCTION post_count(bigint) IS 'Posts of one author';
COMMENT ON TYPE mood IS 'How the author felt';
"""
SCHEMA = SCHEMA_HEAD + POST_TABLE + SCHEMA_TAIL

# The same schema reached another way: objects in another order, post.words added later by
# ALTER TABLE (so at another position), a column added then dropped (a hole in attnum).
SCHEMA_REORDERED = (
    SCHEMA_HEAD.replace("CREATE SEQUENCE ticket_seq START 100 INCREMENT 5;\n", "")
    + "CREATE SEQUENCE ticket_seq START 100 INCREMENT 5;\n"
    + POST_TABLE.replace("    words integer NOT NULL DEFAULT 0,\n", "    junk integer,\n")
    + "ALTER TABLE post DROP COLUMN junk;\n"
    + "ALTER TABLE post ADD COLUMN words integer NOT NULL DEFAULT 0;\n"
    + SCHEMA_TAIL
)


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def _status(conn: psycopg.Connection[Any]) -> TransactionStatus:
    return conn.info.transaction_status


@pytest.fixture
def built(empty_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to a fresh database holding SCHEMA."""
    with _connect(empty_db_url) as conn:
        conn.execute(SCHEMA)
        yield conn


@pytest.fixture
def second_db_url(pg_server: str) -> Iterator[str]:
    name = f"t_catalog_{uuid.uuid4().hex[:12]}"
    url = devdb.create_database(pg_server, name)
    try:
        yield url
    finally:
        devdb.drop_database(pg_server, name)


def test_snapshot_reads_every_kind(built: psycopg.Connection[Any]) -> None:
    snap = snapshot(built)
    assert list(snap) == list(KINDS)
    assert snap["extension"] == {"plpgsql": "SCHEMA pg_catalog VERSION 1.0"}
    assert snap["type"] == {
        "mood": "ENUM ('sad', 'ok', 'happy')",
        "pair": "AS (first integer, second text)",
        "title_text": (
            "DOMAIN AS text CONSTRAINT title_text_not_blank CHECK ((VALUE <> ''::text))"),
    }
    assert snap["sequence"]["ticket_seq"] == (
        "AS bigint START 100 INCREMENT 5 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1")
    assert snap["sequence"]["post_id_seq"].endswith(" OWNED BY post.id")
    assert snap["sequence"]["author_id_seq"].endswith(" OWNED BY author.id")  # identity
    assert snap["table"]["post"].splitlines() == [
        "author_id bigint NOT NULL",
        "created_at timestamp with time zone NOT NULL"
        " DEFAULT '2024-01-01 00:00:00+00'::timestamp with time zone",
        "id bigint NOT NULL DEFAULT nextval('post_id_seq'::regclass)",
        "mood mood NOT NULL DEFAULT 'ok'::mood",
        "ticket integer DEFAULT nextval('ticket_seq'::regclass)",
        "title title_text NOT NULL",
        "title_len integer GENERATED ALWAYS AS (length((title)::text)) STORED",
        "words integer NOT NULL DEFAULT 0",
        "WITH (fillfactor=90)",
    ]
    assert snap["table"]["author"] == (
        "id bigint NOT NULL GENERATED ALWAYS AS IDENTITY\nname text NOT NULL")
    assert snap["constraint"] == {
        "author.author_name_key": "UNIQUE (name)",
        "author.author_pkey": "PRIMARY KEY (id)",
        "post.post_author_id_fkey":
            "FOREIGN KEY (author_id) REFERENCES author(id) ON DELETE CASCADE",
        "post.post_pkey": "PRIMARY KEY (id)",
        "post.post_title_check": "CHECK ((length((title)::text) < 200))",
    }
    assert snap["index"]["post_author_idx"] == (
        "CREATE INDEX post_author_idx ON public.post USING btree (author_id, created_at DESC)")
    assert set(snap["index"]) == {
        "author_name_key", "author_pkey", "post_author_idx", "post_pkey"}
    assert snap["trigger"] == {"post.post_touch": (
        "CREATE TRIGGER post_touch BEFORE INSERT OR UPDATE ON public.post"
        " FOR EACH ROW EXECUTE FUNCTION touch_post()")}
    assert set(snap["function"]) == {
        "longer(text,text)", "longest(text)", "post_count(bigint)", "touch_post()"}
    assert snap["function"]["post_count(bigint)"].startswith(
        "CREATE OR REPLACE FUNCTION public.post_count(p_author bigint)")
    assert snap["function"]["longest(text)"] == (
        "AGGREGATE longest(text) (SFUNC = longer, STYPE = text)")
    view = snap["view"]["post_summary"].splitlines()
    assert view[:6] == [
        "id bigint", "author text", "title title_text", "title_len integer",
        "created_at timestamp with time zone", "AS"]
    assert "FROM post p" in snap["view"]["post_summary"]
    assert snap["matview"]["post_per_author"].startswith("author_id bigint\nposts bigint\nAS\n")
    assert snap["table comments"] == {"post": "Blog posts"}
    assert snap["column comments"] == {"post.title": "Shown as the heading"}
    assert snap["function comments"] == {"post_count(bigint)": "Posts of one author"}
    assert snap["type comments"] == {"mood": "How the author felt"}
    assert snap["rule"] == {} and snap["policy"] == {}


def test_no_oid_appears_in_a_snapshot(built: psycopg.Connection[Any]) -> None:
    oids = [row[0] for row in built.execute("""
        SELECT oid::int8 FROM pg_class WHERE relnamespace = 'public'::regnamespace
        UNION ALL SELECT oid::int8 FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        UNION ALL SELECT oid::int8 FROM pg_type WHERE typnamespace = 'public'::regnamespace
        UNION ALL SELECT oid::int8 FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL SELECT oid::int8 FROM pg_trigger""")]
    assert len(oids) > 20
    text = repr(snapshot(built))
    assert not [oid for oid in oids if re.search(rf"\b{oid}\b", text)]


def test_the_same_schema_built_elsewhere_compares_equal(
    built: psycopg.Connection[Any], second_db_url: str
) -> None:
    with _connect(second_db_url) as other:
        other.execute("CREATE TABLE filler (x int); DROP TABLE filler")  # shift the OIDs
        other.execute(SCHEMA_REORDERED)
        other_columns = [r[0] for r in other.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'post'::regclass AND attnum > 0"
            " AND NOT attisdropped ORDER BY attnum")]
        other_snap = snapshot(other)
    assert other_columns[-1] == "words"  # really another column order
    snap = snapshot(built)
    assert diff(snap, other_snap) == []
    assert snap == other_snap


def test_a_snapshot_is_equal_to_itself_after_a_rebuild(built: psycopg.Connection[Any]) -> None:
    before = snapshot(built)
    built.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    emptied = snapshot(built)
    assert all(not objects for kind, objects in emptied.items() if kind != "extension")
    assert "- table post" in diff(before, emptied)
    built.execute(SCHEMA)
    assert diff(before, snapshot(built)) == []


CHANGES = [
    pytest.param(
        "ALTER TABLE post ADD COLUMN summary text",
        "~ table post: line 5 added: 'summary text'", "", id="add-column"),
    pytest.param(
        "ALTER TABLE post ALTER COLUMN words SET DEFAULT 1",
        "~ table post: line 8: '…er NOT NULL DEFAULT 0' -> '…er NOT NULL DEFAULT 1'", "",
        id="change-default"),
    pytest.param(
        "DROP INDEX post_author_idx",
        "- index post_author_idx", "", id="drop-index"),
    pytest.param(
        "CREATE OR REPLACE VIEW post_summary AS"
        " SELECT p.id, a.name AS author, p.title, p.title_len, p.created_at, p.mood"
        " FROM post p JOIN author a ON a.id = p.author_id",
        "~ view post_summary: line 6 added: 'mood mood'", "", id="alter-view"),
    pytest.param(
        "CREATE OR REPLACE FUNCTION post_count(p_author bigint) RETURNS bigint LANGUAGE sql"
        " STABLE AS $$\n    SELECT count(*) FROM post WHERE author_id = p_author AND words > 0\n$$",
        "~ function post_count(bigint): ", "words > 0", id="replace-function-body"),
    pytest.param(
        "CREATE TRIGGER post_audit AFTER DELETE ON post"
        " FOR EACH STATEMENT EXECUTE FUNCTION touch_post()",
        "+ trigger post.post_audit: CREATE TRIGGER post_audit AFTER DELETE ON public.post",
        "FOR EACH STATEMENT", id="add-trigger"),
    pytest.param(
        "ALTER TABLE post SET (fillfactor = 70)",
        "~ table post: line 9: 'WITH (fillfactor=90)' -> 'WITH (fillfactor=70)'", "",
        id="change-fillfactor"),
    pytest.param(
        "ALTER TABLE post DISABLE TRIGGER post_touch",
        "~ trigger post.post_touch: ", "DISABLED", id="disable-trigger"),
    pytest.param(
        "ALTER TYPE mood ADD VALUE 'angry'",
        "~ type mood: ", "'angry'", id="add-enum-value"),
    pytest.param(
        "ALTER SEQUENCE ticket_seq INCREMENT 10",
        "~ sequence ticket_seq: ", "INCREMENT 10", id="alter-sequence"),
    pytest.param(
        "COMMENT ON COLUMN post.title IS 'The heading'",
        "~ column comments post.title: ", "The heading", id="change-comment"),
    pytest.param(
        "ALTER TABLE post DROP CONSTRAINT post_title_check",
        "- constraint post.post_title_check", "", id="drop-constraint"),
]


@pytest.mark.parametrize(("change", "reported", "mentioned"), CHANGES)
def test_a_single_change_is_reported_once_with_its_kind_and_name(
    built: psycopg.Connection[Any], change: str, reported: str, mentioned: str
) -> None:
    before = snapshot(built)
    built.execute(change)
    changes = diff(before, snapshot(built))
    assert len(changes) == 1, changes
    assert changes[0].startswith(reported), changes
    assert mentioned in changes[0], changes


def test_results_do_not_depend_on_the_callers_session(built: psycopg.Connection[Any]) -> None:
    reference = snapshot(built)
    raw_default = """
        SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
         WHERE adrelid = 'public.post'::regclass AND adnum = (
               SELECT attnum FROM pg_attribute
                WHERE attrelid = 'public.post'::regclass AND attname = 'created_at')"""
    utc_default = built.execute(raw_default).fetchone()
    built.execute("CREATE SCHEMA elsewhere")
    built.execute("SET TimeZone = 'Asia/Kathmandu'")
    built.execute("SET DateStyle = 'SQL, DMY'")
    built.execute("SET IntervalStyle = 'sql_standard'")
    built.execute("SET search_path = elsewhere")
    # The pinning matters: unpinned, both the timestamp and the names print differently.
    assert built.execute(raw_default).fetchone() != utc_default
    fkey = built.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'post_author_id_fkey'"
    ).fetchone()
    assert fkey is not None and "REFERENCES public.author(id)" in fkey[0]

    assert snapshot(built) == reference
    assert snapshot(built, "public") == reference
    settings = built.execute(
        "SELECT current_setting('TimeZone'), current_setting('DateStyle'),"
        " current_setting('IntervalStyle'), current_setting('search_path')").fetchone()
    assert settings == ("Asia/Kathmandu", "SQL, DMY", "sql_standard", "elsewhere")


def test_a_transaction_connection_is_left_as_found(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url) as conn:  # not autocommit
        conn.execute(SCHEMA)
        conn.commit()
        snap = snapshot(conn)
        assert _status(conn) == TransactionStatus.IDLE
        conn.execute("SET TimeZone = 'America/Lima'")  # opens a transaction
        assert snapshot(conn) == snap
        assert _status(conn) == TransactionStatus.INTRANS
        assert conn.execute("SELECT current_setting('TimeZone')").fetchone() == ("America/Lima",)
        conn.rollback()
    assert "post" in snap["table"]


def test_exclude_leaves_out_tables_and_what_hangs_off_them(
    built: psycopg.Connection[Any],
) -> None:
    full = snapshot(built)
    built.execute("""
        CREATE TABLE whatsmeow_device (jid text PRIMARY KEY, n serial, registration_id bigint);
        CREATE INDEX whatsmeow_device_reg ON whatsmeow_device (registration_id);
        CREATE TRIGGER touch BEFORE UPDATE ON whatsmeow_device
            FOR EACH ROW EXECUTE FUNCTION touch_post();
        COMMENT ON COLUMN whatsmeow_device.jid IS 'neonize';
        CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)""")
    with_them = snapshot(built)
    assert "whatsmeow_device" in with_them["table"]
    assert "whatsmeow_device.touch" in with_them["trigger"]
    assert "whatsmeow_device_n_seq" in with_them["sequence"]

    def neonize_or_alembic(name: str) -> bool:
        return name.startswith("whatsmeow_") or name == "alembic_version"

    assert snapshot(built, exclude=neonize_or_alembic) == full
    assert {line.split(":")[0] for line in diff(full, with_them)} == {
        "+ table alembic_version", "+ table whatsmeow_device",
        "+ sequence whatsmeow_device_n_seq",
        "+ constraint alembic_version.alembic_version_pkey",
        "+ constraint whatsmeow_device.whatsmeow_device_pkey",
        "+ index alembic_version_pkey", "+ index whatsmeow_device_pkey",
        "+ index whatsmeow_device_reg", "+ trigger whatsmeow_device.touch",
        "+ column comments whatsmeow_device.jid",
    }


def test_extension_objects_are_listed_as_the_extension_only(
    built: psycopg.Connection[Any],
) -> None:
    before = snapshot(built)
    built.execute("CREATE EXTENSION vector SCHEMA public")
    extension_functions = built.execute("""
        SELECT count(*) FROM pg_depend WHERE classid = 'pg_proc'::regclass AND deptype = 'e'
           AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vector')""").fetchone()
    assert extension_functions is not None and extension_functions[0] > 10
    changes = diff(before, snapshot(built))
    assert len(changes) == 1 and changes[0].startswith("+ extension vector: SCHEMA public VERSION ")


def test_snapshot_of_another_schema_is_separate(built: psycopg.Connection[Any]) -> None:
    built.execute("""
        CREATE SCHEMA other;
        CREATE TABLE other.post (id int PRIMARY KEY, body text DEFAULT 'x');
        CREATE VIEW other.recent AS SELECT id FROM other.post""")
    other = snapshot(built, "other")
    assert other["table"] == {"post": "body text DEFAULT 'x'::text\nid integer NOT NULL"}
    assert other["index"] == {"post_pkey": "CREATE UNIQUE INDEX post_pkey ON other.post"
                                           " USING btree (id)"}
    assert list(other["view"]) == ["recent"]
    assert other["function"] == {} and other["type"] == {}
    assert snapshot(built, "no_such_schema")["table"] == {}


def test_diff_wording() -> None:
    before = {"table": {"a": "x int\ny text", "gone": "z int"}, "index": {}}
    after = {"table": {"a": "x int\ny varchar", "new": "w int\nv int"},
             "index": {"a_idx": "CREATE INDEX a_idx ON public.a USING btree (x)"}}
    assert diff(before, after) == [
        "~ table a: line 2: 'y text' -> 'y varchar'",
        "- table gone",
        "+ table new: w int (+1 more line)",
        "+ index a_idx: CREATE INDEX a_idx ON public.a USING btree (x)",
    ]
    assert diff(after, after) == []
    assert diff({"view": {"v": "a\nb"}}, {"view": {"v": "a\nb\nc"}}) == [
        "~ view v: line 3 added: 'c'"]
    assert diff({"view": {"v": "a\nb"}}, {"view": {"v": "a"}}) == [
        "~ view v: line 2 removed: 'b'"]
    assert diff({"f": {"g()": "a\nb\nc\nd"}}, {"f": {"g()": "a\nB\nc\nD\ne"}}) == [
        "~ f g(): line 2: 'b' -> 'B' (and 2 more lines)"]
    long_before = "x" * 100 + " old tail"
    long_after = "x" * 100 + " new tail"
    assert diff({"index": {"i": long_before}}, {"index": {"i": long_after}}) == [
        f"~ index i: line 1: '…{'x' * 19} old tail' -> '…{'x' * 19} new tail'"]
    assert diff({"index": {"i": "a"}}, {"index": {"i": "a\n"}}) == [
        "~ index i: whitespace differs: 'a' -> 'a\\n'"]


def test_data_fingerprint_follows_the_rows_not_their_order(
    built: psycopg.Connection[Any],
) -> None:
    built.execute("INSERT INTO author (name) VALUES ('Ana'), ('Budi')")
    built.execute("""INSERT INTO post (author_id, title, created_at)
                     SELECT id, 'Hello from ' || name, '2024-05-01 10:00+07' FROM author""")
    tables = ["author", "public.post"]
    first = data_fingerprint(built, tables)
    assert set(first) == set(tables)
    assert first["author"].startswith("2 rows ")
    assert re.fullmatch(r"2 rows [0-9a-f]{32}", first["public.post"])
    assert data_fingerprint(built, tables) == first

    # Same rows, other physical order and other session settings: the same fingerprint.
    built.execute("UPDATE post SET title = title")
    built.execute("SET TimeZone = 'Pacific/Auckland'; SET DateStyle = 'German'")
    assert data_fingerprint(built, tables) == first
    assert built.execute("SELECT current_setting('TimeZone')").fetchone() == ("Pacific/Auckland",)

    built.execute("UPDATE post SET title = 'Hi from Ana' WHERE title = 'Hello from Ana'")
    changed = data_fingerprint(built, tables)
    assert changed["public.post"] != first["public.post"]
    assert changed["public.post"].startswith("2 rows ")
    assert changed["author"] == first["author"]
    built.execute("UPDATE post SET title = 'Hello from Ana' WHERE title = 'Hi from Ana'")
    assert data_fingerprint(built, tables) == first

    built.execute("INSERT INTO author (name) VALUES ('Citra')")
    assert data_fingerprint(built, ["author"])["author"].startswith("3 rows ")
    built.execute("TRUNCATE author CASCADE")
    assert data_fingerprint(built, ["author"]) == {
        "author": "0 rows d41d8cd98f00b204e9800998ecf8427e"}
