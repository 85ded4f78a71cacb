"""The analyst warehouse: `<warehouse>/geowire.duckdb`, schema `news`, loaded from the published Parquet.

DuckDB 2.0 streams results: every statement here is fetched to the end before the next one runs.
One writer at a time: a lock file serialises loads from concurrent processes.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import contracts, models, storage

DATABASE_FILE = "geowire.duckdb"
SCHEMA = "news"

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
def _writer_lock(warehouse: Path) -> Iterator[None]:
    warehouse.mkdir(parents=True, exist_ok=True)
    with open(warehouse / f".{DATABASE_FILE}.lock", "w") as lock:
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


def load_partition(warehouse: Path, date: str) -> dict[str, int]:
    """Replace partition `date` of every table with its published Parquet, in one transaction."""
    warehouse = Path(warehouse)
    loaded: dict[str, int] = {}
    with _writer_lock(warehouse), duckdb.connect(str(warehouse / DATABASE_FILE)) as con:
        ensure_schema(con)
        _run(con, "BEGIN TRANSACTION")
        try:
            for contract in contracts.all_tables():
                path = storage.partition_dir(warehouse, "parquet", contract.name, date) / storage.PART_FILE
                _run(con, f"DELETE FROM {SCHEMA}.{contract.name} WHERE partition_date = ?", [date])
                if not path.exists():
                    raise FileNotFoundError(f"{path} is not published")
                columns = ", ".join(contract.column_names)
                _run(
                    con,
                    f"INSERT INTO {SCHEMA}.{contract.name} ({columns}, partition_date) "
                    f"SELECT {columns}, ?::DATE FROM read_parquet(?)",
                    [date, str(path)],
                )
                loaded[contract.name] = _run(
                    con, f"SELECT count(*) FROM {SCHEMA}.{contract.name} WHERE partition_date = ?", [date]
                )[0][0]
            _run(con, "COMMIT")
        except Exception:
            _run(con, "ROLLBACK")
            raise
    return loaded


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(Path(warehouse) / DATABASE_FILE), read_only=True)
