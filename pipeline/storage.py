"""Warehouse layout, deterministic Parquet writes, and atomic partition publish.

<warehouse>/parquet/<table>/date=D/part-0.parquet      published
<warehouse>/quarantine/<table>/date=D/...              rejected rows or inputs, with the reason
<warehouse>/_work/date=D/...                           staging between stages of one run (removed after load)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__, contracts

PART_FILE = "part-0.parquet"


def partition_dir(warehouse: Path, area: str, table: str, date: str) -> Path:
    return Path(warehouse) / area / table / f"date={date}"


def work_dir(warehouse: Path, date: str) -> Path:
    return Path(warehouse) / "_work" / f"date={date}"


def file_metadata() -> dict[str, str]:
    return {"schema_version": contracts.schema_version(), "pipeline_version": __version__}


def to_arrow(table_name: str, rows: Iterable[dict]) -> pa.Table:
    """Rows -> an Arrow table with the contract's schema, sorted by the contract's key."""
    contract = contracts.table(table_name)
    table = pa.Table.from_pylist(list(rows), schema=contract.arrow_schema(file_metadata()))
    return sort_rows(table_name, table)


def sort_rows(table_name: str, table: pa.Table) -> pa.Table:
    contract = contracts.table(table_name)
    if table.num_rows == 0:
        return table
    return table.sort_by([(c, "ascending") for c in contract.sort_by])


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Write deterministically (fixed codec, one file, no wall-clock metadata) and atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=100_000)
    os.replace(tmp, path)
    return path


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns)


def row_count(path: Path) -> int:
    """Rows of a Parquet file, from its footer: no data is read."""
    return pq.read_metadata(path).num_rows


def publish_partition(staged: dict[str, Path], warehouse: Path, date: str, area: str = "parquet") -> dict[str, Path]:
    """Move staged files into place, one rename per table: readers see the old file or the new one, never half.
    Rerunning a date replaces its files."""
    published: dict[str, Path] = {}
    for table_name, staged_path in staged.items():
        target_dir = partition_dir(warehouse, area, table_name, date)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / PART_FILE
        os.replace(staged_path, target)
        published[table_name] = target
    return published


def write_json(path: Path, payload: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(
        json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)
    return path


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def published_partitions(warehouse: Path, table: str) -> list[str]:
    root = Path(warehouse) / "parquet" / table
    if not root.exists():
        return []
    return sorted(
        p.name.split("=", 1)[1]
        for p in root.iterdir()
        if p.is_dir() and p.name.startswith("date=") and (p / PART_FILE).exists()
    )
