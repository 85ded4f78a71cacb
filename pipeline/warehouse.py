"""The analyst warehouse: `<local>/geowire.duckdb`, schema `news`, loaded from the published Parquet.

`<local>` is the warehouse directory, or for an object-store warehouse its local directory (`pipeline.fs`).
DuckDB 2.0 streams results: every statement here is fetched to the end before the next one runs.

DuckDB lets one process write a file or several read it, never both. So a load never opens `geowire.duckdb`
for writing: it copies it to `.geowire.duckdb.new` beside it, loads the night into the copy, checkpoints, and
renames the copy over the original. A connection that was open keeps reading the file it opened (its snapshot);
connections opened after the rename see the new night. A lock file serialises loads from concurrent processes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import contracts, fs, models, storage
from pipeline.fs import Location

DATABASE_FILE = "geowire.duckdb"
CATALOG = Path(DATABASE_FILE).stem  # DuckDB's name for the file's catalog; the load attaches a copy under it
SCHEMA = "news"
# Rows per DuckDB row group written by a load (DuckDB's default is 122,880): a night's articles are never in
# memory together. Costs some 20% in file size for narrow tables; analyst queries measured no slower.
LOAD_ROW_GROUP_ROWS = 2_048
LOAD_MEMORY_LIMIT = "128MB"  # DuckDB's buffer pool during a load; past it, blocks go to disk

VIEWS = {
    "actor_dim": """
        -- One row per actor: its most recently published description.
        SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY actor_id ORDER BY partition_date DESC) AS rn
            FROM news.actors) WHERE rn = 1""",
    "event_dyads": """
        -- One row per (source, target) pair of each event; events with no target keep one row with a NULL target.
        SELECT e.event_id, e.article_id, e.event_date, e.event_type, e.cameo_code, e.quad_class, e.goldstein,
               e.modality, s.actor_id AS source_actor_id, s.name AS source_name,
               coalesce(s.affiliation_id, s.actor_id) AS source_affiliation,
               t.actor_id AS target_actor_id, t.name AS target_name,
               coalesce(t.affiliation_id, t.actor_id) AS target_affiliation,
               e.evidence, e.partition_date
        FROM news.events e
        CROSS JOIN unnest(e.source_actor_ids) AS src(source_id)
        LEFT JOIN unnest(CASE WHEN len(e.target_actor_ids) = 0 THEN [NULL::VARCHAR] ELSE e.target_actor_ids END)
             AS tgt(target_id) ON true
        LEFT JOIN news.actor_dim s ON s.actor_id = src.source_id
        LEFT JOIN news.actor_dim t ON t.actor_id = tgt.target_id""",
    "commitments_by_donor": """
        -- One row per (commitment, donor); `joint` marks commitments shared by several donors, whose amount
        -- is the joint total and must not be summed per donor as if each gave it.
        SELECT c.commitment_id, c.article_id, c.announced_date, d.donor_id AS donor_actor_id, a.name AS donor_name,
               coalesce(a.affiliation_id, d.donor_id) AS donor_affiliation,
               len(c.donor_actor_ids) > 1 AS joint, len(c.donor_actor_ids) AS n_donors,
               c.recipient_actor_ids, c.category, c.subtype, c.description, c.amount, c.currency, c.status,
               c.conditions, c.evidence, c.partition_date
        FROM news.commitments c
        CROSS JOIN unnest(c.donor_actor_ids) AS d(donor_id)
        LEFT JOIN news.actor_dim a ON a.actor_id = d.donor_id""",
    "actor_activity": """
        -- Per actor and day: events as source and as target, by quad class.
        WITH roles AS (
            SELECT unnest(source_actor_ids) AS actor_id, event_date, quad_class, 'source' AS role FROM news.events
            UNION ALL
            SELECT unnest(target_actor_ids) AS actor_id, event_date, quad_class, 'target' AS role FROM news.events)
        SELECT r.actor_id, a.name, r.event_date AS day,
               count(*) FILTER (WHERE role = 'source') AS events_as_source,
               count(*) FILTER (WHERE role = 'target') AS events_as_target,
               count(*) FILTER (WHERE role = 'source' AND quad_class = 1) AS source_quad1,
               count(*) FILTER (WHERE role = 'source' AND quad_class = 2) AS source_quad2,
               count(*) FILTER (WHERE role = 'source' AND quad_class = 3) AS source_quad3,
               count(*) FILTER (WHERE role = 'source' AND quad_class = 4) AS source_quad4,
               count(*) FILTER (WHERE role = 'target' AND quad_class = 1) AS target_quad1,
               count(*) FILTER (WHERE role = 'target' AND quad_class = 2) AS target_quad2,
               count(*) FILTER (WHERE role = 'target' AND quad_class = 3) AS target_quad3,
               count(*) FILTER (WHERE role = 'target' AND quad_class = 4) AS target_quad4
        FROM roles r LEFT JOIN news.actor_dim a USING (actor_id)
        GROUP BY ALL""",
}
VIEW_COMMENTS = {
    "actor_dim": "One row per actor with its most recently published description.",
    "event_dyads": "Events expanded to one row per (source, target) pair, GDELT style, with names and affiliations.",
    "commitments_by_donor": "One row per (commitment, donor); joint marks commitments shared by several donors.",
    "actor_activity": "Per actor and day: events as source and as target, by quad class.",
}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


@contextmanager
def _writer_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".{DATABASE_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    _run(con, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for contract in contracts.all_tables():
        _run(con, contract.duckdb_ddl(SCHEMA))
        for statement in contract.duckdb_comments(SCHEMA):
            _run(con, statement)
    for name, sql in VIEWS.items():
        _run(con, f"CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {sql}")
        _run(con, f"COMMENT ON VIEW {SCHEMA}.{name} IS '{VIEW_COMMENTS[name]}'")
    models.build_models(con)


def database_path(warehouse: str | Location) -> Path:
    return fs.local_dir(warehouse) / DATABASE_FILE


def load_partition(warehouse: str | Location, date: str) -> dict[str, int]:
    """Replace partition `date` of every table with its published Parquet, in a copy of the database that is
    swapped in by one rename when complete: open read-only connections are neither blocked nor disturbed."""
    database = database_path(warehouse)
    staging = database.with_name(f".{DATABASE_FILE}.new")
    with _writer_lock(database.parent):
        for leftover in (staging, _wal(staging)):  # of a load that crashed before its rename
            leftover.unlink(missing_ok=True)
        if database.exists():
            shutil.copyfile(database, staging)
            if _wal(database).exists():  # written by someone who opened the file for writing themselves
                shutil.copyfile(_wal(database), _wal(staging))
        try:
            loaded = _load_into(staging, warehouse, date)
            _fsync(staging)
            os.replace(staging, database)
            _fsync(database.parent)
        finally:
            for leftover in (staging, _wal(staging)):
                leftover.unlink(missing_ok=True)
    return loaded


def _load_into(database: Path, warehouse: str | Location, date: str) -> dict[str, int]:
    """Published Parquet is read by pyarrow (local or object store alike, no DuckDB extension needed) and
    inserted from a stream of Arrow batches; all tables in one transaction.

    The night is held in memory in neither form. DuckDB writes an inserted row group to the file as soon as it
    is full, so with `LOAD_ROW_GROUP_ROWS`-row groups a transaction holds one row group per table, not a night
    of article texts (some 10 kB each). No write-ahead log is written: the file is a private copy, renamed into
    place only after its checkpoint, so a crash loses nothing the log could restore."""
    loaded: dict[str, int] = {}
    with duckdb.connect(config={"memory_limit": LOAD_MEMORY_LIMIT}) as con:
        options = f"RECOVERY_MODE no_wal_writes, ROW_GROUP_SIZE {LOAD_ROW_GROUP_ROWS}"
        _run(con, f"ATTACH {contracts.sql_string(str(database))} AS {CATALOG} ({options})")
        _run(con, f"USE {CATALOG}")
        ensure_schema(con)
        _run(con, "BEGIN TRANSACTION")
        try:
            for contract in contracts.all_tables():
                path = storage.partition_dir(warehouse, "parquet", contract.name, date) / storage.PART_FILE
                _run(con, f"DELETE FROM {SCHEMA}.{contract.name} WHERE partition_date = ?", [date])
                if not path.exists():
                    raise FileNotFoundError(f"{path} is not published")
                con.register(
                    "incoming",
                    storage.parquet_batches(path, columns=contract.column_names, batch_rows=LOAD_ROW_GROUP_ROWS),
                )
                columns = ", ".join(contract.column_names)
                _run(
                    con,
                    f"INSERT INTO {SCHEMA}.{contract.name} ({columns}, partition_date) "
                    f"SELECT {columns}, ?::DATE FROM incoming",
                    [date],
                )
                con.unregister("incoming")
                loaded[contract.name] = _run(
                    con, f"SELECT count(*) FROM {SCHEMA}.{contract.name} WHERE partition_date = ?", [date]
                )[0][0]
            _run(con, "COMMIT")
        except Exception:
            _run(con, "ROLLBACK")
            raise
        _run(con, "CHECKPOINT")  # everything in the file itself, no write-ahead log left to move with it
    return loaded


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


def _fsync(path: Path) -> None:
    """Data (or, for a directory, the rename) on disk before the load reports success."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect_read_only(warehouse: str | Location) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(database_path(warehouse)), read_only=True)
