"""Partition manifests: what a published partition holds, for downstream jobs to check before they read it.

`<warehouse>/parquet/_manifests/date=D/manifest.json`, beside the tables (the leading `_` makes pyarrow, DuckDB
hive globs on `*/date=*/*.parquet`, polars and Spark skip it when they read `parquet/` as a dataset):

    {"date": "2026-01-07", "schema_version": "1", "pipeline_version": "0.1.0",
     "tables": {"articles": {"path": "articles/date=2026-01-07/part-0.parquet", "rows": 6, "bytes": 48213,
                             "sha256": "..."}, ...}}

Paths are relative to `<warehouse>/parquet/`. `publish` removes a date's manifest before it replaces the
date's files and writes the new one after the last of them, so a manifest that verifies means a complete,
untouched partition. No wall-clock time goes in: the same input and date give the same manifest, byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline import __version__, contracts, fs, storage
from pipeline.fs import Location, ObjectPath

MANIFESTS = "_manifests"
MANIFEST_FILE = "manifest.json"
_CHUNK = 8 << 20


def manifest_path(warehouse: str | Location, date: str) -> Location:
    return fs.location(warehouse) / "parquet" / MANIFESTS / f"date={date}" / MANIFEST_FILE


def describe(staged: dict[str, Path], date: str) -> dict:
    """The manifest of a partition about to be published, from its staged (local) files."""
    tables = {}
    for name, path in staged.items():
        digest, size = file_digest(path)
        tables[name] = {
            "path": f"{name}/date={date}/{storage.PART_FILE}",
            "rows": storage.row_count(path),
            "bytes": size,
            "sha256": digest,
        }
    return {
        "date": date,
        "schema_version": contracts.schema_version(),
        "pipeline_version": __version__,
        "tables": tables,
    }


def remove(warehouse: str | Location, date: str) -> None:
    manifest_path(warehouse, date).unlink(missing_ok=True)


def write(warehouse: str | Location, date: str, contents: dict) -> Location:
    return storage.write_json(manifest_path(warehouse, date), contents)


def read(warehouse: str | Location, date: str) -> dict:
    return storage.read_json(manifest_path(warehouse, date))


def verify_manifest(warehouse: str | Location, date: str) -> list[str]:
    """Check partition `date` against its manifest: every contract table listed, each file present with the
    listed size, sha256, row count and schema_version. Returns the problems found; empty means safe to read."""
    path = manifest_path(warehouse, date)
    if not path.exists():
        return [f"no manifest at {path}: partition {date} is not published, or is being republished"]
    contents = read(warehouse, date)
    problems: list[str] = []
    if contents.get("date") != date:
        problems.append(f"manifest is for date {contents.get('date')!r}, not {date}")
    if contents.get("schema_version") != contracts.schema_version():
        problems.append(
            f"manifest schema_version {contents.get('schema_version')!r}, "
            f"this contract is version {contracts.schema_version()!r}"
        )
    listed = contents.get("tables", {})
    for name in contracts.table_names():
        if name not in listed:
            problems.append(f"{name}: not in the manifest")
    for name, entry in sorted(listed.items()):
        problems += _verify_file(fs.location(warehouse) / "parquet" / entry["path"], name, entry, contents)
    return problems


def _verify_file(path: Location, name: str, entry: dict, contents: dict) -> list[str]:
    if not path.exists():
        return [f"{name}: {path} is missing"]
    digest, size = file_digest(path)
    if size != entry["bytes"] or digest != entry["sha256"]:
        listed = f"{entry['sha256'][:12]}..., {entry['bytes']} bytes"
        return [f"{name}: {path} has changed (sha256 {digest[:12]}..., {size} bytes; manifest: {listed})"]
    problems = []
    metadata = storage.footer(path)
    if metadata.num_rows != entry["rows"]:
        problems.append(f"{name}: {metadata.num_rows} rows, manifest says {entry['rows']}")
    file_version = (metadata.metadata or {}).get(b"schema_version", b"").decode()
    if file_version != contents.get("schema_version"):
        problems.append(f"{name}: file schema_version {file_version!r}, manifest {contents.get('schema_version')!r}")
    return problems


def file_digest(path: Location) -> tuple[str, int]:
    """sha256 hex digest and size in bytes, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.filesystem.open_input_stream(path.key) if isinstance(path, ObjectPath) else open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
