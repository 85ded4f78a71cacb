"""Every stage in-process, in order: what `geowire run` does, with the same functions the DAG calls."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline import fs, stages, storage
from pipeline.config import Settings
from pipeline.fs import Location
from pipeline.ingest.sources import SourcesConfig
from pipeline.report import write_report


def run_pipeline(
    inputs: Sequence[str | Path],
    warehouse: str | Location,
    date: str,
    settings: Settings,
    progress: stages.ProgressCallback | None = None,
    sources: SourcesConfig | None = None,
) -> dict:
    """Run ingest -> load for one partition and write its report; returns the run summary (counts, rows, seconds
    per stage) and the report's path. `inputs` are one inbox; `sources` (a loaded sources file) adds feeds and more
    inboxes."""
    warehouse = fs.location(warehouse)
    seconds: dict[str, float] = {}
    ingested = stages.ingest(inputs, warehouse, date, settings.max_input_bytes, sources)
    seconds["ingest"] = ingested["seconds"]
    normalized = stages.normalize(warehouse, date, settings.workers, settings.batch_size)
    seconds["normalize"] = normalized["seconds"]
    extracted = stages.extract(
        warehouse, date, settings.spacy_model, settings.batch_size, settings.workers, progress=progress
    )
    seconds["extract"] = extracted["seconds"]
    validated = stages.validate(warehouse, date)
    seconds["validate"] = validated["seconds"]
    published = stages.publish(warehouse, date)
    seconds["publish"] = published["seconds"]
    loaded = stages.load_warehouse(warehouse, date)
    seconds["load_warehouse"] = loaded["seconds"]
    summary = summarize(date, warehouse, ingested, normalized, published, seconds)
    return {**summary, "report": str(write_report(warehouse, date))}


def summarize(
    date: str, warehouse: str | Location, ingested: dict, normalized: dict, published: dict, seconds: dict[str, float]
) -> dict:
    summary = {
        "date": date,
        "warehouse": str(warehouse),
        "inputs_read": ingested["inputs_read"],
        "articles_published": published["articles_published"],
        "duplicates": published["duplicates"],
        "quarantined": published["quarantined"],
        "quarantined_by_reason": published["quarantined_by_reason"],
        "rows": published["rows"],
        "quarantined_rows": published["quarantined_rows"],
        "articles_normalized": normalized["articles"],
        "sources": ingested.get("sources", []),
        "summary_fallbacks": ingested.get("summary_fallbacks", 0),
        "seconds": seconds,
    }
    summary["counts_balance"] = (
        summary["inputs_read"] == summary["articles_published"] + summary["duplicates"] + summary["quarantined"]
    )
    storage.write_json(fs.location(warehouse) / "runs" / f"date={date}" / "summary.json", summary)
    return summary
