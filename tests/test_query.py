"""`geowire query`: read-only SQL with table, CSV, JSON and Parquet output, on the two-night warehouse."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipeline.cli import app

COUNTS = "SELECT event_type, count(*) AS n FROM news.events GROUP BY ALL ORDER BY ALL"
NASAMS = "SELECT * FROM news.commitment_tracker WHERE donor_affiliations = ['NOR']"


def query(warehouse, *args: str):
    return CliRunner().invoke(app, ["query", "--warehouse", str(warehouse), *args])


def expected(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "geowire.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_table_is_the_default(two_nights):
    result = query(two_nights, COUNTS)
    assert result.exit_code == 0, result.stderr
    assert "event_type" in result.stdout and "ASSAULT" in result.stdout


def test_csv(two_nights, tmp_path):
    result = query(two_nights, COUNTS, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    parsed = list(csv.reader(io.StringIO(result.stdout)))
    assert parsed[0] == ["event_type", "n"]
    assert [(t, int(n)) for t, n in parsed[1:]] == expected(two_nights, COUNTS)
    out = tmp_path / "counts.csv"
    assert query(two_nights, COUNTS, "--format", "csv", "--output", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == result.stdout


def test_json_keeps_lists_structs_and_dates(two_nights):
    result = query(two_nights, NASAMS, "--format", "json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["sources"] == ["Harbour Gazette", "Northern Wire"]
    assert row["first_announced"] == "2026-01-05"
    assert [h["status"] for h in row["history"]] == ["pledged", "pledged"]


def test_parquet_needs_an_output_file_and_keeps_types(two_nights, tmp_path):
    refused = query(two_nights, NASAMS, "--format", "parquet")
    assert refused.exit_code == 1 and "--output" in refused.stderr
    out = tmp_path / "nasams.parquet"
    result = query(two_nights, NASAMS, "--format", "parquet", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    assert table.num_rows == 1
    assert table.schema.field("first_announced").type == pa.date32()
    assert pa.types.is_list(table.schema.field("history").type)


def test_connection_is_read_only(two_nights):
    before = expected(two_nights, "SELECT count(*) FROM news.events")
    result = query(two_nights, "DELETE FROM news.events")
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert expected(two_nights, "SELECT count(*) FROM news.events") == before


def test_bad_sql_and_missing_warehouse_are_clear_errors(two_nights, tmp_path):
    bad = query(two_nights, "SELECT * FROM news.no_such_table")
    assert bad.exit_code == 1 and "no_such_table" in bad.stderr
    missing = query(tmp_path, "SELECT 1")
    assert missing.exit_code == 1 and "no warehouse database" in missing.stderr
