"""What web sources have already delivered: `<warehouse>/state/feeds.sqlite`.

- `entries(source, key, date)`: every entry id and URL taken in, with the partition date that took it first.
- `validators(source, url, date, etag, last_modified)`: each feed's ETag and Last-Modified as of a partition.

Keyed by partition date so that reruns are deterministic: a run for date D sends the validators of the latest
date before D and treats as new every entry not seen before or first seen on D itself. A rerun of D therefore
fetches the same entries again (and replaces the partition with the same content, given the same feeds), and
rerunning an old date does not take in entries that a later partition already holds.

Ingest only reads the store; what a run took in is written as pending state in the work directory and recorded
by `commit_pending`, which the publish stage calls after the partition is in place: entries of a run that never
publishes are fetched again the next night, not lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from pipeline import fs

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    source TEXT NOT NULL, key TEXT NOT NULL, date TEXT NOT NULL, PRIMARY KEY (source, key)
);
CREATE TABLE IF NOT EXISTS validators (
    source TEXT NOT NULL, url TEXT NOT NULL, date TEXT NOT NULL, etag TEXT, last_modified TEXT,
    PRIMARY KEY (source, url, date)
);
"""


def state_path(warehouse: str | fs.Location) -> Path:
    """Local, beside the DuckDB file, also for a warehouse on object storage (SQLite needs a local file)."""
    return fs.local_dir(warehouse) / "state" / "feeds.sqlite"


def _connect(warehouse: str | fs.Location) -> sqlite3.Connection:
    path = state_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=60)
    con.executescript(_SCHEMA)
    return con


def validators(warehouse: str | fs.Location, source: str, url: str, date: str) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of the feed as of the latest partition before `date`."""
    if not state_path(warehouse).exists():
        return None, None
    with closing(_connect(warehouse)) as con:
        row = con.execute(
            "SELECT etag, last_modified FROM validators WHERE source = ? AND url = ? AND date < ? "
            "ORDER BY date DESC LIMIT 1",
            (source, url, date),
        ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def seen_entries(warehouse: str | fs.Location, source: str) -> dict[str, str]:
    """key -> the partition date that first took the entry in."""
    if not state_path(warehouse).exists():
        return {}
    with closing(_connect(warehouse)) as con:
        return dict(con.execute("SELECT key, date FROM entries WHERE source = ?", (source,)).fetchall())


def commit_pending(warehouse: str | fs.Location, date: str, pending: Iterable[dict]) -> int:
    """Record what a published run took in: its entries' keys and its feeds' validators. Returns keys added."""
    pending = list(pending)
    if not pending:
        return 0
    with closing(_connect(warehouse)) as con, con:
        added = 0
        for p in pending:
            cursor = con.executemany(
                "INSERT OR IGNORE INTO entries (source, key, date) VALUES (?, ?, ?)",
                [(p["source"], key, date) for key in p["entry_keys"]],
            )
            added += cursor.rowcount
            if p.get("etag") or p.get("last_modified"):
                con.execute(
                    "INSERT OR REPLACE INTO validators (source, url, date, etag, last_modified) VALUES (?, ?, ?, ?, ?)",
                    (p["source"], p["url"], date, p.get("etag"), p.get("last_modified")),
                )
    return added
