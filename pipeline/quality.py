"""Quality gates: one GX Core 1.x suite per table from `expectations/<table>.json`.

Each expectation's `meta.on_failure` decides what a failure does:
- `quarantine_rows`: the failing rows go to quarantine with the expectation that failed; the rest go on;
- `stop_publish`: the table as a whole is wrong (schema drift, duplicate keys): nothing is published.
Validation results are kept as JSON and rendered as GX Data Docs under `<warehouse>/quality/`.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

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


class QualityGateError(RuntimeError):
    """A table-level expectation failed: the partition must not be published."""


@dataclass
class TableVerdict:
    table: str
    rows_in: int
    passed: pa.Table
    quarantined: pa.Table  # the table's columns plus quarantine_reason
    failures: list[dict] = field(default_factory=list)
    stop_reasons: list[str] = field(default_factory=list)


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
            suite = self.context.suites.add(gx.ExpectationSuite(**load_suite(table)))
            batch = self.source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(f"{table}-partition")
            self._definitions[table] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{table}-gate", data=batch, suite=suite)
            )
        return self._definitions[table]

    def validate(self, table: str, data: pa.Table, run_name: str) -> tuple[dict, dict[int, list[str]], list[str]]:
        """Returns the GX result as JSON, failing row positions with their reasons, and table-level failures."""
        from great_expectations.core.run_identifier import RunIdentifier

        frame = data.to_pandas(types_mapper=None)
        validation = self._definition(table).run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE"},
            run_id=RunIdentifier(run_name=run_name),
        )
        row_failures: dict[int, list[str]] = defaultdict(list)
        stops: list[str] = []
        for r in validation.results:
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
        return validation.to_json_dict(), dict(row_failures), stops

    def build_docs(self) -> None:
        """Render every validation of this gate as GX Data Docs (once per run: rendering is the slow part)."""
        self.context.build_data_docs(site_names=["geowire"])


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
