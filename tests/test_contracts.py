"""Schemas, GX suites and the DuckDB warehouse describe the same tables."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipeline import contracts, quality
from pipeline.warehouse import ensure_schema
from tests.conftest import SHARED

TABLES = contracts.table_names()


def contract_columns_from_spec() -> dict[str, list[str]]:
    """Column names per table as published in ../shared/spec/DATA_CONTRACT.md."""
    spec = (SHARED / "spec" / "DATA_CONTRACT.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for block in re.split(r"^### ", spec, flags=re.M)[1:]:
        name = block.split()[0]
        cols: list[str] = []
        for line in block.splitlines():
            m = re.match(r"\|\s*([a-z_, ]+?)\s*\|\s*(string|int32|int8|int64|float64|date32|timestamp|list)", line)
            if m:
                cols += [c.strip() for c in m.group(1).split(",")]
        out[name] = cols
    return out


def test_schemas_match_the_published_contract():
    spec = contract_columns_from_spec()
    assert set(spec) == set(TABLES)
    for name in TABLES:
        assert contracts.table(name).column_names == spec[name], name


@pytest.mark.parametrize("name", TABLES)
def test_suite_agrees_with_schema(name):
    contract = contracts.table(name)
    suite = quality.load_suite(name)
    assert suite["name"] == name
    by_type: dict[str, list[dict]] = {}
    for e in suite["expectations"]:
        assert e["meta"]["on_failure"] in ("quarantine_rows", "stop_publish"), e
        by_type.setdefault(e["type"], []).append(e["kwargs"])
    [ordered] = by_type["expect_table_columns_to_match_ordered_list"]
    assert ordered["column_list"] == contract.column_names + quality.DERIVED_COLUMNS[name]
    not_null = {k["column"] for k in by_type["expect_column_values_to_not_be_null"]}
    assert not_null == {c.name for c in contract.columns if not c.nullable}
    unique = {k["column"] for k in by_type["expect_column_values_to_be_unique"]}
    assert unique == set(contract.primary_key)
    columns = set(contract.column_names) | set(quality.DERIVED_COLUMNS[name])
    for kwargs_list in by_type.values():
        for kwargs in kwargs_list:
            for key in ("column", "column_A", "column_B"):
                if key in kwargs:
                    assert kwargs[key] in columns, (name, kwargs)


def test_duckdb_tables_match_schemas_and_carry_comments(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_schema(con)
        for contract in contracts.all_tables():
            rows = con.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'news' AND table_name = ? ORDER BY ordinal_position",
                [contract.name],
            ).fetchall()
            assert [r[0] for r in rows] == [*contract.column_names, "partition_date"]
            for (col, dtype, nullable), c in zip(rows, contract.columns, strict=False):
                assert dtype == c.duckdb_type, (contract.name, col)
                assert (nullable == "YES") == c.nullable, (contract.name, col)
            comments = dict(
                con.execute(
                    "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'news' AND table_name = ?",
                    [contract.name],
                ).fetchall()
            )
            assert all(comments[c.name] == c.description for c in contract.columns)
            [(table_comment,)] = con.execute(
                "SELECT comment FROM duckdb_tables() WHERE schema_name = 'news' AND table_name = ?", [contract.name]
            ).fetchall()
            assert table_comment == contract.description
        views = {
            r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'news'").fetchall()
        }
        assert {"event_dyads", "commitments_by_donor", "actor_activity"} <= views


def test_arrow_schema_carries_versions():
    schema = contracts.table("articles").arrow_schema({"schema_version": contracts.schema_version()})
    assert schema.metadata[b"schema_version"] == b"1"
    assert not schema.field("article_id").nullable and schema.field("url").nullable
