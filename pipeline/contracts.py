"""The data contract, loaded from `schemas/`: pyarrow schemas, DuckDB DDL and column comments."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int8": pa.int8(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "date32": pa.date32(),
    "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    "list<string>": pa.list_(pa.string()),
}
_DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int8": "TINYINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "date32": "DATE",
    "timestamp[us, UTC]": "TIMESTAMP WITH TIME ZONE",
    "list<string>": "VARCHAR[]",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.type]

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class TableContract:
    name: str
    description: str
    primary_key: tuple[str, ...]
    sort_by: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self, metadata: dict[str, str] | None = None) -> pa.Schema:
        fields = [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns]
        return pa.schema(fields, metadata=metadata)

    def duckdb_ddl(self, schema: str = "news") -> str:
        cols = ",\n  ".join(f"{c.name} {c.duckdb_type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns)
        # partition_date is the warehouse's own column: which nightly partition a row was loaded from.
        return f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} (\n  {cols},\n  partition_date DATE NOT NULL\n)"

    def duckdb_comments(self, schema: str = "news") -> list[str]:
        statements = [f"COMMENT ON TABLE {schema}.{self.name} IS {sql_string(self.description)}"]
        for c in self.columns:
            statements.append(f"COMMENT ON COLUMN {schema}.{self.name}.{c.name} IS {sql_string(c.description)}")
        statements.append(
            f"COMMENT ON COLUMN {schema}.{self.name}.partition_date IS "
            f"{sql_string('Nightly run partition (date=YYYY-MM-DD) the row was published in.')}"
        )
        return statements


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@cache
def _contract_file() -> dict:
    return yaml.safe_load((SCHEMAS_DIR / "contract.yaml").read_text(encoding="utf-8"))


def schema_version() -> str:
    return str(_contract_file()["schema_version"])


def table_names() -> list[str]:
    return list(_contract_file()["tables"])


@cache
def table(name: str) -> TableContract:
    raw = yaml.safe_load((SCHEMAS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    if raw["table"] != name:
        raise ValueError(f"schemas/{name}.yaml declares table {raw['table']!r}")
    columns = tuple(Column(**c) for c in raw["columns"])
    unknown = [c.type for c in columns if c.type not in _ARROW_TYPES]
    if unknown:
        raise ValueError(f"schemas/{name}.yaml uses unknown types {unknown}")
    return TableContract(
        name=name,
        description=raw["description"],
        primary_key=tuple(raw["primary_key"]),
        sort_by=tuple(raw["sort_by"]),
        columns=columns,
    )


def all_tables() -> list[TableContract]:
    return [table(n) for n in table_names()]
