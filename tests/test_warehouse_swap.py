"""The nightly load and analysts' open connections coexist: the load builds a copy and swaps it in by rename.

Every test uses real DuckDB files and, for the analyst and for concurrent loads, real second processes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from pipeline import storage, warehouse
from tests.conftest import REPO, article_row, stage_night

NIGHTS = {"2026-01-06": ["a1", "a2"], "2026-01-07": ["b1"], "2026-01-08": ["c1", "c2", "c3"]}

# An analyst's notebook: opens the database read-only, answers, and keeps the connection open until told.
ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def nights():
        return con.execute(
            "SELECT count(DISTINCT partition_date), count(*) FROM news.articles").fetchall()[0]
    print(*nights(), flush=True)
    for _ in sys.stdin:
        print(*nights(), flush=True)
    """
)


def night_article(aid: str) -> dict:
    return article_row(aid, f"NATO met about {aid}.", aid.ljust(32, "0"))


def publish_night(wh: Path, date: str, skip: str | None = None) -> None:
    """Publish a partition with the given night's articles (the other tables empty), as `publish` would."""
    staged = stage_night([night_article(a) for a in NIGHTS[date]], wh / "_staging" / date, skip)
    storage.publish_partition(staged, wh, date)


def nights_in(database: Path) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        [(nights, rows)] = con.execute(
            "SELECT count(DISTINCT partition_date), count(*) FROM news.articles"
        ).fetchall()
    return nights, rows


@pytest.fixture
def first_night(tmp_path) -> Path:
    wh = tmp_path / "wh"
    publish_night(wh, "2026-01-06")
    warehouse.load_partition(wh, "2026-01-06")
    return wh


def test_a_load_succeeds_while_an_analyst_holds_a_read_only_connection(first_night):
    wh = first_night
    database = wh / warehouse.DATABASE_FILE
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert analyst.stdin and analyst.stdout
    try:
        assert analyst.stdout.readline().split() == ["1", "2"]  # connected and answering
        # What used to happen: a writer cannot open the file while another process reads it.
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(database)).close()
        publish_night(wh, "2026-01-07")
        started = time.perf_counter()
        loaded = warehouse.load_partition(wh, "2026-01-07")
        assert time.perf_counter() - started < 30  # it did not wait for the analyst to leave
        assert loaded["articles"] == 1
        assert nights_in(database) == (2, 3)  # a new connection sees both nights
        analyst.stdin.write("again\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().split() == ["1", "2"]  # the open one keeps its snapshot
    finally:
        analyst.stdin.close()
        assert analyst.wait(timeout=30) == 0
    assert sorted(p.name for p in wh.iterdir() if "duckdb" in p.name) == [".geowire.duckdb.lock", "geowire.duckdb"]


def test_a_failed_load_leaves_the_database_as_it_was(first_night):
    wh = first_night
    database = wh / warehouse.DATABASE_FILE
    before = database.read_bytes()
    publish_night(wh, "2026-01-07", skip="commitments")
    with pytest.raises(FileNotFoundError, match="commitments"):
        warehouse.load_partition(wh, "2026-01-07")
    assert database.read_bytes() == before
    assert not database.with_name(f".{warehouse.DATABASE_FILE}.new").exists()
    assert nights_in(database) == (1, 2)


def test_concurrent_loads_serialise_and_keep_both_nights(first_night):
    """Two processes load different nights at once: without the lock the second rename would drop the first night."""
    wh = first_night
    for date in ("2026-01-07", "2026-01-08"):
        publish_night(wh, date)
    load = "import sys; from pipeline.warehouse import load_partition; load_partition(sys.argv[1], sys.argv[2])"
    loaders = [
        subprocess.Popen([sys.executable, "-c", load, str(wh), date], cwd=REPO, stderr=subprocess.PIPE, text=True)
        for date in ("2026-01-07", "2026-01-08")
    ]
    for loader in loaders:
        _, err = loader.communicate(timeout=120)
        assert loader.returncode == 0, err
    assert nights_in(wh / warehouse.DATABASE_FILE) == (3, 6)


def test_reloading_a_night_replaces_it(first_night):
    wh = first_night
    warehouse.load_partition(wh, "2026-01-06")
    assert nights_in(wh / warehouse.DATABASE_FILE) == (1, 2)
