"""Quality gates: one GX Core 1.x suite per table from `expectations/<table>.json`.

Each expectation's `meta.on_failure` decides what a failure does:
- `quarantine_rows`: the failing rows go to quarantine with the expectation that failed; the rest go on;
- `stop_publish`: the table as a whole is wrong (schema drift, duplicate keys): nothing is published.
Validation results are kept as JSON and rendered as GX Data Docs under `<warehouse>/quality/`.

A table is validated in chunks of `CHUNK_ROWS` rows (fewer when rows are wide, `CHUNK_BYTES`), so memory does
not grow with the partition: GX runs the suite on each chunk and the chunks' results are merged into one result
per table, as GX would report it on the whole table. Row-level expectations merge by adding counts and offsetting
each chunk's failing row positions; the expectations about the whole table (its row count, a key's uniqueness) are
judged on the whole file instead, the row count from the Parquet footer and duplicate keys by DuckDB. A table of
one chunk is GX's result as it is.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import storage

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
log = logging.getLogger(__name__)

# Check columns computed before validation, so row-level rules that need another table stay GX expectations.
DERIVED_COLUMNS = {
    "articles": [],
    "actors": [],
    "actor_mentions": ["_span_matches_article"],
    "events": ["_source_count", "_span_matches_article"],
    "commitments": ["_donor_count", "_span_matches_article", "_event_known"],
}
# A row of these tables belongs to an article; it goes to quarantine when its article does.
ARTICLE_CHILDREN = ("actor_mentions", "events", "commitments")

CHUNK_ROWS = 20_000
CHUNK_BYTES = 16 * 2**20  # fewer rows per chunk for wide rows: 20,000 articles' texts would be some 120 MB
# Judged row by row: a chunk's result is its rows' share of the whole table's.
ROW_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)
# The same in every chunk, since the chunks share the file's schema.
SCHEMA_EXPECTATIONS = frozenset({"expect_table_columns_to_match_ordered_list"})
# Judged on the whole file when a table takes more than one chunk (`WholeTable`), with the kwargs handled there.
WHOLE_TABLE_EXPECTATIONS = {
    "expect_table_row_count_to_be_between": {"min_value", "max_value"},
    "expect_column_values_to_be_unique": {"column"},
}
PARTIAL_COUNT = 20  # GX's partial lists in the COMPLETE result format
# What DuckDB may hold while it looks for duplicate keys or unknown events, before it spills to disk.
DUCKDB_MEMORY_LIMIT = "128MB"


class QualityGateError(RuntimeError):
    """A table-level expectation failed: the partition must not be published."""


def load_suite(table: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{table}.json").read_text(encoding="utf-8"))


def derive_checks(table: str, data: pa.Table, texts: dict[str, str], event_ids: set[str]) -> pa.Table:
    columns: dict[str, list] = {}

    def values(column: str) -> list:  # one column as Python values: a row as a dict would cost ten times more
        return data.column(column).to_pylist()

    if "_span_matches_article" in DERIVED_COLUMNS[table]:
        field_name = "text" if table == "actor_mentions" else "evidence"
        spans = zip(values("article_id"), values("char_start"), values("char_end"), values(field_name), strict=True)
        columns["_span_matches_article"] = [
            article_id in texts and texts[article_id][start:end] == span for article_id, start, end, span in spans
        ]
    if "_source_count" in DERIVED_COLUMNS[table]:
        columns["_source_count"] = [len(ids or []) for ids in values("source_actor_ids")]
    if "_donor_count" in DERIVED_COLUMNS[table]:
        columns["_donor_count"] = [len(ids or []) for ids in values("donor_actor_ids")]
    if "_event_known" in DERIVED_COLUMNS[table]:
        columns["_event_known"] = [event_id in event_ids for event_id in values("event_id")]
    for name in DERIVED_COLUMNS[table]:
        data = data.append_column(name, pa.array(columns[name]))
    return data


@dataclass
class WholeTable:
    """What the whole-table expectations judge when a table is validated in chunks: its row count, and for a
    column the rows whose value repeats (positions and values, in file order; nulls are never duplicates)."""

    rows: int
    duplicates: Callable[[str], list[tuple[int, Any]]]


def whole_file(path: Path) -> WholeTable:
    """`WholeTable` of a Parquet file: rows from its footer, duplicates found by DuckDB in bounded memory."""

    def duplicates(column: str) -> list[tuple[int, Any]]:
        query = f"""WITH t AS (SELECT file_row_number AS position, "{column}" AS value
                               FROM read_parquet(?, file_row_number = true))
                    SELECT position, value FROM t
                    WHERE value IN (SELECT value FROM t WHERE value IS NOT NULL GROUP BY value HAVING count(*) > 1)
                    ORDER BY position"""
        return _duckdb_rows(path.parent, query, [str(path)])

    return WholeTable(storage.row_count(path), duplicates)


def _duckdb_rows(work: Path, query: str, params: list) -> list[tuple]:
    import duckdb

    spill = work / ".quality-spill"
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT, "temp_directory": str(spill), "threads": 1})
    try:
        return [tuple(row) for row in con.execute(query, params).fetchall()]
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


class QualityGate:
    """Runs the suites through one ephemeral GX context; Data Docs go to `docs_dir`."""

    def __init__(self, docs_dir: Path):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.add_data_docs_site(
            site_name="geowire",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        self.source = self.context.data_sources.add_pandas("geowire")
        self._definitions: dict[str, object] = {}

    def _definition(self, table: str):
        """The table's validation definition, built on first use from `expectations/<table>.json`."""
        gx = self._gx
        if table not in self._definitions:
            suite_json = load_suite(table)
            _check_chunkable(suite_json)
            suite = self.context.suites.add(gx.ExpectationSuite(**suite_json))
            batch = self.source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(f"{table}-partition")
            self._definitions[table] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{table}-gate", data=batch, suite=suite)
            )
        return self._definitions[table]

    def validate(self, table: str, data: pa.Table, run_name: str) -> tuple[dict, dict[int, list[str]], list[str]]:
        """A table held whole, as one chunk: returns the GX result as JSON, failing row positions with their
        reasons, and table-level failures."""
        return self.validate_chunks(table, [data], run_name, whole=None)

    def validate_chunks(
        self, table: str, chunks: Iterable[pa.Table], run_name: str, whole: WholeTable | None
    ) -> tuple[dict, dict[int, list[str]], list[str]]:
        """`validate` over a table given as consecutive chunks (with their check columns), merged as GX would
        report the whole table; `whole` judges the whole-table expectations when there is more than one chunk.
        The merged result is stored in the context, so the Data Docs show one validation per table."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        definition: Any = self._definition(table)
        merged: Any = None
        offset = count = 0
        for chunk in chunks:
            frame = chunk.to_pandas(types_mapper=None)
            batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(definition.suite, result_format={"result_format": "COMPLETE"})
            del frame, batch
            merged = result if merged is None else _merge_chunk(merged, result, offset)
            offset += chunk.num_rows
            count += 1
        if merged is None:
            raise ValueError(f"{table}: no chunk to validate")
        if count > 1:
            if whole is None:
                raise ValueError(f"{table}: a table in {count} chunks needs its whole-table facts")
            _judge_whole_table(merged, whole)
            _finish(merged)
            merged.meta.get("batch_markers", {}).pop("pandas_data_fingerprint", None)  # it was the first chunk's
        run_id = RunIdentifier(run_name=run_name)
        merged.meta.update(
            validation_id=definition.id,
            checkpoint_id=None,
            run_id=run_id,
            validation_time=run_id.run_time,
            batch_parameters={"dataframe": "<DATAFRAME>"},
            row_chunks=count,
        )
        suite_id = ExpectationSuiteIdentifier(name=definition.suite.name)
        self.context.validation_results_store.store_validation_results(
            suite_validation_result=merged,
            suite_validation_result_identifier=ValidationResultIdentifier(
                expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=merged.batch_id
            ),
            expectation_suite_identifier=suite_id,
        )
        row_failures: dict[int, list[str]] = defaultdict(list)
        stops: list[str] = []
        for r in merged.results:
            if r.success:
                continue
            cfg = r.expectation_config
            label = _label(cfg.type, cfg.kwargs)
            if (cfg.meta or {}).get("on_failure") == "quarantine_rows" and r.result.get(
                "unexpected_index_list"
            ) is not None:
                for position in r.result["unexpected_index_list"]:
                    row_failures[int(position)].append(label)
            else:
                stops.append(label)
        return merged.to_json_dict(), dict(row_failures), stops

    def build_docs(self) -> None:
        """Render every validation of this gate as GX Data Docs (once per run: rendering is the slow part)."""
        self.context.build_data_docs(site_names=["geowire"])


def _check_chunkable(suite: dict) -> None:
    """Every expectation of the suite must be one whose result chunks can be merged into the whole table's."""
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        whole_table_kwargs = WHOLE_TABLE_EXPECTATIONS.get(kind)
        chunkable = (
            (kind in ROW_EXPECTATIONS and "mostly" not in kwargs)
            or kind in SCHEMA_EXPECTATIONS
            or (whole_table_kwargs is not None and set(kwargs) <= whole_table_kwargs)
        )
        if not chunkable:
            raise ValueError(
                f"suite {suite['name']}: {kind}{sorted(kwargs)} cannot be judged in row chunks; "
                "merge its results in pipeline/quality.py first"
            )


def _merge_chunk(merged: Any, chunk: Any, offset: int) -> Any:
    """The next chunk's expectation results (rows from `offset` on) added into `merged`, expectation by id."""
    by_id = {r.expectation_config.id: r for r in chunk.results}
    for r in merged.results:
        other = by_id[r.expectation_config.id]
        if r.exception_info.get("raised_exception"):
            continue  # the first exception stands for the table
        if other.exception_info.get("raised_exception"):
            r.success, r.result, r.exception_info = other.success, other.result, other.exception_info
            continue
        kind = r.expectation_config.type
        if kind in SCHEMA_EXPECTATIONS:
            if r.success and not other.success:
                r.success, r.result = other.success, other.result
            continue
        if kind == "expect_table_row_count_to_be_between":
            continue  # judged on the whole table
        result, more = r.result, other.result
        for key in ("element_count", "unexpected_count", "missing_count"):
            if key in result:
                result[key] += more[key]
        result["unexpected_list"] += more["unexpected_list"]
        result["unexpected_index_list"] += [offset + int(i) for i in more["unexpected_index_list"]]
        r.success = r.success and other.success
    return merged


def _judge_whole_table(merged: Any, whole: WholeTable) -> None:
    for r in merged.results:
        if r.exception_info.get("raised_exception"):
            continue
        kwargs = r.expectation_config.kwargs
        if r.expectation_config.type == "expect_table_row_count_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            r.result = {"observed_value": whole.rows}
            r.success = (low is None or whole.rows >= low) and (high is None or whole.rows <= high)
        elif r.expectation_config.type == "expect_column_values_to_be_unique":
            duplicates = whole.duplicates(kwargs["column"])
            r.result["unexpected_count"] = len(duplicates)
            r.result["unexpected_index_list"] = [position for position, _ in duplicates]
            r.result["unexpected_list"] = [value for _, value in duplicates]
            r.success = not duplicates


def _finish(merged: Any) -> None:
    """Percentages, partial lists and statistics of the merged map results, computed as GX computes them."""
    for r in merged.results:
        result = r.result
        if r.exception_info.get("raised_exception") or "unexpected_index_list" not in result:
            continue
        total, unexpected = result["element_count"], result["unexpected_count"]
        percent_total = percent_nonmissing = missing_percent = None
        if total > 0:
            percent_total = percent_nonmissing = unexpected / total * 100
            if "missing_count" in result:
                nonnull = total - result["missing_count"]
                missing_percent = result["missing_count"] / total * 100
                percent_nonmissing = unexpected / nonnull * 100 if nonnull > 0 else None
        result["unexpected_percent"] = percent_nonmissing
        if "missing_count" in result:
            result["missing_percent"] = missing_percent
            result["unexpected_percent_total"] = percent_total
            result["unexpected_percent_nonmissing"] = percent_nonmissing
        values, positions = result["unexpected_list"], result["unexpected_index_list"]
        result["partial_unexpected_list"] = values[:PARTIAL_COUNT]
        result["partial_unexpected_index_list"] = positions[:PARTIAL_COUNT]
        result["unexpected_index_query"] = f"df.filter(items={positions}, axis=0)"
        hashable = [tuple(v.values()) if isinstance(v, dict) else v for v in values]
        try:
            counts = sorted(Counter(hashable).most_common(PARTIAL_COUNT), key=lambda x: (-x[1], x[0]))
            result["partial_unexpected_counts"] = [{"value": value, "count": n} for value, n in counts]
        except TypeError:
            result.pop("partial_unexpected_counts", None)
    evaluated = len(merged.results)
    successful = sum(bool(r.success) for r in merged.results)
    merged.success = successful == evaluated
    merged.statistics = {
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        "success_percent": successful / evaluated * 100 if evaluated else None,
    }


def _label(expectation_type: str, kwargs: dict) -> str:
    column = kwargs.get("column") or ",".join(filter(None, [kwargs.get("column_A"), kwargs.get("column_B")]))
    return f"{expectation_type}({column})" if column else expectation_type


def split_rows(data: pa.Table, failures: dict[int, list[str]]) -> tuple[pa.Table, pa.Table]:
    bad = sorted(failures)
    keep = (
        pc.invert(pc.is_in(pa.array(range(data.num_rows)), value_set=pa.array(bad, type=pa.int64())))
        if bad
        else pa.array([True] * data.num_rows, type=pa.bool_())
    )
    passed = data.filter(keep)
    quarantined = data.take(pa.array(bad, type=pa.int64())).append_column(
        "quarantine_reason", pa.array(["; ".join(failures[i]) for i in bad], type=pa.string())
    )
    return passed, quarantined


class ArticleTexts:
    """Article texts by id, read from the articles file (sorted by article_id) forward in batches: asked in
    ascending id order, as the chunks of a table sorted by article_id ask, the file is read once and memory holds
    about one batch. A lookup behind what was already passed starts a new read from the top, so any order is
    answered, only more slowly. Of repeated ids the last text counts, as in a dict built from the whole file."""

    def __init__(self, path: Path, batch_rows: int = 1_000) -> None:
        self._path = path
        self._batch_rows = batch_rows
        self._restart()

    def _restart(self) -> None:
        source = pq.ParquetFile(self._path)
        self._batches: Iterator[pa.RecordBatch] = source.iter_batches(self._batch_rows, columns=["article_id", "text"])
        self._window: dict[str, str] = {}
        self._last_read: str | None = None
        self._forgotten_below: str | None = None  # ids below this may have left the window
        self._exhausted = False

    def lookup(self, article_ids: Iterable[str | None]) -> dict[str, str]:
        wanted = sorted({a for a in article_ids if a is not None})
        if wanted and self._forgotten_below is not None and wanted[0] < self._forgotten_below:
            self._restart()
        found: dict[str, str] = {}
        for article_id in wanted:
            # Read past the id, so that every copy of a repeated id has been seen.
            while not self._exhausted and (self._last_read is None or self._last_read <= article_id):
                self._read_batch(keep_from=article_id)
            if article_id in self._window:
                found[article_id] = self._window[article_id]
        return found

    def _read_batch(self, keep_from: str) -> None:
        batch = next(self._batches, None)
        if batch is None:
            self._exhausted = True
            return
        self._window = {k: v for k, v in self._window.items() if k >= keep_from}
        self._forgotten_below = keep_from
        for article_id, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            if self._last_read is not None and article_id < self._last_read:
                raise ValueError(f"{self._path} is not sorted by article_id: {article_id} after {self._last_read}")
            self._window[article_id] = text
            self._last_read = article_id


class CheckInputs:
    """What the check columns need from other tables of the partition in `work`, in bounded memory: article texts
    (`ArticleTexts`) and the event ids that commitments name but no event has (found once by DuckDB)."""

    def __init__(self, work: Path) -> None:
        self._work = work
        self._texts = ArticleTexts(work / "articles.parquet")
        self._unknown_events: set[str | None] | None = None

    def derive(self, table: str, chunk: pa.Table) -> pa.Table:
        texts: dict[str, str] = {}
        if "_span_matches_article" in DERIVED_COLUMNS[table]:
            texts = self._texts.lookup(chunk.column("article_id").to_pylist())
        event_ids: set[str] = set()
        if "_event_known" in DERIVED_COLUMNS[table]:
            event_ids = set(chunk.column("event_id").to_pylist()) - self.unknown_events()
        return derive_checks(table, chunk, texts, event_ids)

    def unknown_events(self) -> set[str | None]:
        if self._unknown_events is None:
            query = """SELECT DISTINCT c.event_id FROM read_parquet(?) c WHERE NOT EXISTS
                       (SELECT 1 FROM read_parquet(?) e WHERE e.event_id IS NOT DISTINCT FROM c.event_id)"""
            paths = [str(self._work / "commitments.parquet"), str(self._work / "events.parquet")]
            self._unknown_events = {row[0] for row in _duckdb_rows(self._work, query, paths)}
        return self._unknown_events


def check_table(
    gate: QualityGate,
    table: str,
    path: Path,
    run_name: str,
    inputs: CheckInputs,
    quarantined_articles: set[str],
    chunk_rows: int | None = None,
) -> tuple[dict, dict[int, list[str]], list[str]]:
    """The table's file through the gate chunk by chunk (`QualityGate.validate_chunks`); a row of an article in
    `quarantined_articles` fails with "article quarantined" after its own reasons."""
    orphans: list[int] = []

    def chunks() -> Iterator[pa.Table]:
        offset = 0
        source = pq.ParquetFile(path)
        batches = source.iter_batches(chunk_rows or _chunk_rows(source.metadata)) if source.metadata.num_rows else []
        for batch in batches:
            chunk = pa.Table.from_batches([batch])
            if table in ARTICLE_CHILDREN and quarantined_articles:
                ids = chunk.column("article_id").to_pylist()
                orphans.extend(offset + i for i, article_id in enumerate(ids) if article_id in quarantined_articles)
            offset += chunk.num_rows
            yield inputs.derive(table, chunk)
        if not offset:  # an empty table is still validated: its schema and row count
            yield inputs.derive(table, source.schema_arrow.empty_table())

    result, failures, stops = gate.validate_chunks(table, chunks(), run_name, whole_file(path))
    for position in orphans:
        failures.setdefault(position, []).append("article quarantined")
    return result, failures, stops


def _chunk_rows(metadata: pq.FileMetaData) -> int:
    """`CHUNK_ROWS`, or as many rows as make about `CHUNK_BYTES` of (uncompressed) data."""
    size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    return max(1, min(CHUNK_ROWS, CHUNK_BYTES * metadata.num_rows // max(size, 1)))


def write_split(
    source: Path, failures: dict[int, list[str]], passed_path: Path, quarantine_path: Path
) -> tuple[int, int, pa.Table]:
    """The file's rows split by `split_rows`, one row group at a time: the passing rows to `passed_path`, the
    failing ones (with their reason) to `quarantine_path`, byte for byte as `storage.write_parquet` writes the
    split of the whole table. Returns the rows in, the rows passed and the quarantined table (failing rows only).

    With no failing row the passing rows are the file as it is: the stages stage their tables with the writer
    settings of `storage.write_parquet`, so a copy is what a rewrite would write, without holding a row group."""
    file = pq.ParquetFile(source)
    bad_positions = sorted(failures)
    quarantined: list[pa.Table] = []
    passed_rows = start = 0
    passed_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = passed_path.with_name(f".{passed_path.name}.tmp")
    if not failures:
        shutil.copyfile(source, tmp)
        passed_rows = start = file.metadata.num_rows
    else:
        with _RowGroupWriter(tmp, file.schema_arrow) as writer:
            for index in range(file.metadata.num_row_groups):
                group = file.read_row_group(index)
                end = start + group.num_rows
                low, high = bisect.bisect_left(bad_positions, start), bisect.bisect_left(bad_positions, end)
                passed, bad = split_rows(group, {p - start: failures[p] for p in bad_positions[low:high]})
                del group
                writer.write(passed)
                quarantined.append(bad)
                passed_rows += passed.num_rows
                start = end
    os.replace(tmp, passed_path)
    bad_table = (
        pa.concat_tables(quarantined).combine_chunks()
        if quarantined
        else split_rows(file.schema_arrow.empty_table(), {})[1]
    )
    storage.write_parquet(bad_table, quarantine_path)
    return start, passed_rows, bad_table


class _RowGroupWriter:
    """Writes a stream of tables as `pq.write_table` writes their concatenation: row groups of
    `storage.rows_per_group` rows made of the same chunks, so the bytes are the same; holds one row group."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._schema = schema
        self._group_rows = storage.rows_per_group(schema)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._written = False

    def __enter__(self) -> _RowGroupWriter:
        return self

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._group_rows:
            pending = pa.concat_tables(self._pending)
            self._write_group(pending.slice(0, self._group_rows))
            rest = pending.slice(self._group_rows)
            self._pending, self._pending_rows = [rest], rest.num_rows

    def _write_group(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=self._group_rows)
        self._written = True

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None and (self._pending_rows or not self._written):
                # pq.write_table writes an empty table as one empty row group
                pending = pa.concat_tables(self._pending) if self._pending else self._schema.empty_table()
                self._write_group(pending)
        finally:
            self._writer.close()
