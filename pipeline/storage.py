"""Warehouse layout, deterministic Parquet writes, and atomic partition publish.

<warehouse>/parquet/<table>/date=D/part-0.parquet      published
<warehouse>/parquet/_manifests/date=D/manifest.json    rows, sha256 and versions of the partition (pipeline.manifest)
<warehouse>/quarantine/<table>/date=D/...              rejected rows or inputs, with the reason
<warehouse>/quality/date=D/<table>.json                GX validation results
<warehouse>/runs/date=D/summary.json                   the run summary
<local>/_work/date=D/...                               staging between stages of one run (removed after load)
<local>/geowire.duckdb                                 the analyst warehouse (pipeline.warehouse)

<warehouse> is a directory or an object-store URL (s3://bucket/prefix, see pipeline.fs); <local> is the warehouse
directory itself, or for an object-store warehouse its local directory `fs.local_dir(url)`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__, contracts, fs
from pipeline.fs import Location, ObjectPath

PART_FILE = "part-0.parquet"
ROW_GROUP_ROWS = 100_000
# Articles hold whole texts (~10 kB each): a row group is written and read whole, so 100,000 of them would be
# ~1 GB in memory at once; 2,000 keep it near 20 MB.
ARTICLE_ROW_GROUP_ROWS = 2_000
# What DuckDB may hold of a sort's keys before it spills them to disk.
SORT_MEMORY_LIMIT = "128MB"


def partition_dir(warehouse: str | Location, area: str, table: str, date: str) -> Location:
    return fs.location(warehouse) / area / table / f"date={date}"


def work_dir(warehouse: str | Location, date: str) -> Path:
    return fs.local_dir(warehouse) / "_work" / f"date={date}"


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


def rows_per_group(schema: pa.Schema) -> int:
    """Rows per Parquet row group for a table of this schema: fewer for the articles (and their quarantine)."""
    return ARTICLE_ROW_GROUP_ROWS if _article_columns() <= set(schema.names) else ROW_GROUP_ROWS


@cache
def _article_columns() -> frozenset[str]:
    return frozenset(contracts.table("articles").column_names)


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Write deterministically (fixed codec, one file, no wall-clock metadata) and atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=rows_per_group(table.schema))
    os.replace(tmp, path)
    return path


def write_sorted_parquet(
    unsorted: Path,
    path: Path,
    keys: Sequence[str],
    memory_limit: str = SORT_MEMORY_LIMIT,
    row_group_rows: int | None = None,
) -> Path:
    """The rows of the Parquet file `unsorted` ordered by `keys` into `path`, byte for byte what
    `write_parquet(read_parquet(unsorted).sort_by(keys).combine_chunks(), path)` writes, in bounded memory.

    DuckDB sorts only the keys and row numbers (spilling to a temp directory beside `path` past `memory_limit`;
    ties keep the input order, as Arrow's stable sort does); the rows of each output row group are then gathered
    from the file's row groups one at a time. Memory holds one output row group and one input row group."""
    import duckdb

    source = pq.ParquetFile(unsorted)
    row_group_rows = row_group_rows or rows_per_group(source.schema_arrow)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    spill = path.with_name(f".{path.name}.sort-spill")
    order = ", ".join([*(f'"{k}" ASC NULLS LAST' for k in keys), "file_row_number"])
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill), "threads": 1})
    try:
        query = f"SELECT file_row_number FROM read_parquet(?, file_row_number = true) ORDER BY {order}"
        # A relation streams its result; con.execute would hold all of it before the first batch.
        positions = con.sql(query, params=[str(unsorted)]).to_arrow_reader(row_group_rows)
        with pq.ParquetWriter(tmp, source.schema_arrow, compression="zstd") as writer:
            pending: list[pa.Array] = []
            pending_rows = 0
            written = False
            for batch in positions:
                pending.append(batch.column(0))
                pending_rows += batch.num_rows
                while pending_rows >= row_group_rows:
                    group = pa.concat_arrays(pending)
                    writer.write_table(_gather(source, group[:row_group_rows]), row_group_size=row_group_rows)
                    pending, written = [group[row_group_rows:]], True
                    pending_rows = len(pending[0])
            if pending_rows or not written:  # pq.write_table writes an empty table as one empty row group
                group = pa.concat_arrays(pending) if pending else pa.array([], pa.int64())
                writer.write_table(_gather(source, group), row_group_size=row_group_rows)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    os.replace(tmp, path)
    return path


def _gather(source: pq.ParquetFile, positions: pa.Array) -> pa.Table:
    """The rows at `positions` (row numbers of the file), in that order, as one contiguous table."""
    import numpy as np

    wanted = positions.to_numpy(zero_copy_only=False).astype(np.int64)
    by_position = np.argsort(wanted, kind="stable")
    ascending = wanted[by_position]
    pieces = [source.schema_arrow.empty_table()]
    start = 0
    for index in range(source.metadata.num_row_groups):
        end = start + source.metadata.row_group(index).num_rows
        low, high = np.searchsorted(ascending, [start, end])
        if low < high:
            pieces.append(source.read_row_group(index).take(pa.array(ascending[low:high] - start)))
        start = end
    in_file_order = pa.concat_tables(pieces)
    rank = np.empty_like(by_position)
    rank[by_position] = np.arange(len(by_position))
    return in_file_order.take(pa.array(rank)).combine_chunks()


def read_parquet(path: Location, columns: list[str] | None = None) -> pa.Table:
    if isinstance(path, ObjectPath):
        return pq.read_table(path.key, columns=columns, filesystem=path.filesystem)
    return pq.read_table(path, columns=columns)


def parquet_batches(path: Location, columns: list[str] | None = None, batch_rows: int = 10_000) -> pa.RecordBatchReader:
    """The file's rows as a stream of record batches of at most `batch_rows` rows: readers that can consume a
    stream (DuckDB's scan of an Arrow reader) never hold the whole table."""
    if isinstance(path, ObjectPath):
        source = pq.ParquetFile(path.filesystem.open_input_file(path.key))
    else:
        source = pq.ParquetFile(path)
    schema = source.schema_arrow if columns is None else pa.schema([source.schema_arrow.field(c) for c in columns])
    return pa.RecordBatchReader.from_batches(schema, source.iter_batches(batch_size=batch_rows, columns=columns))


def row_count(path: Location) -> int:
    """Rows of a Parquet file, from its footer: no data is read."""
    return footer(path).num_rows


def footer(path: Location) -> pq.FileMetaData:
    if isinstance(path, ObjectPath):
        return pq.read_metadata(path.key, filesystem=path.filesystem)
    return pq.read_metadata(path)


def publish_partition(
    staged: dict[str, Path], warehouse: str | Location, date: str, area: str = "parquet"
) -> dict[str, Location]:
    """Move staged files into place, one rename per table (one upload per table in an object store): readers see
    the old file or the new one, never half. Rerunning a date replaces its files."""
    published: dict[str, Location] = {}
    for table_name, staged_path in staged.items():
        target = partition_dir(warehouse, area, table_name, date) / PART_FILE
        move_file(staged_path, target)
        published[table_name] = target
    return published


def move_file(local: Path, target: Location) -> None:
    """A local file to its place in the warehouse: a rename, or an upload and the local copy removed."""
    if isinstance(target, ObjectPath):
        target.upload(local)
        local.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)


def write_json(path: Location, payload: object) -> Location:
    return _write_text(path, json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def read_json(path: Location) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Location, rows: Iterable[dict]) -> Location:
    if isinstance(path, ObjectPath):
        return _write_text(path, "".join(_json_line(row) for row in rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(_json_line(row))
    os.replace(tmp, path)
    return path


def _json_line(row: dict) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _write_text(path: Location, text: str) -> Location:
    """Atomically: a temp file and a rename, or one PUT."""
    if isinstance(path, ObjectPath):
        path.write_text(text)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_jsonl(path: Location) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def published_partitions(warehouse: str | Location, table: str) -> list[str]:
    root = fs.location(warehouse) / "parquet" / table
    if not root.exists():
        return []
    return sorted(
        p.name.split("=", 1)[1]
        for p in root.iterdir()
        if p.is_dir() and p.name.startswith("date=") and (p / PART_FILE).exists()
    )
