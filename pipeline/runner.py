"""Every stage in order: what `geowire run` does, with the same functions the DAG calls."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pipeline import fs, stages, storage
from pipeline.config import LOG_FORMAT, Settings
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
    # A process of its own costs a stage about 1.5 s to start; below this size its leftovers cost less.
    own_process = ingested["records"] >= settings.stage_process_records
    normalized = _run_stage(own_process, stages.normalize, warehouse, date, settings.workers, settings.batch_size)
    seconds["normalize"] = normalized["seconds"]
    extracted = stages.extract(
        warehouse, date, settings.spacy_model, settings.batch_size, settings.workers, progress=progress
    )
    seconds["extract"] = extracted["seconds"]
    validated = _run_stage(own_process, stages.validate, warehouse, date)
    seconds["validate"] = validated["seconds"]
    published = stages.publish(warehouse, date)
    seconds["publish"] = published["seconds"]
    loaded = _run_stage(own_process, stages.load_warehouse, warehouse, date)
    seconds["load_warehouse"] = loaded["seconds"]
    summary = summarize(date, warehouse, ingested, normalized, published, seconds)
    return {**summary, "report": str(write_report(warehouse, date))}


def _run_stage(own_process: bool, stage: Callable[..., dict], *args: Any) -> dict:
    """`stage(*args)`, here or in a spawned process of its own, as an Airflow task runs. Arrow's and DuckDB's
    allocators keep what a stage freed, and validation imports GX: in one process, each stage would start from
    what the ones before it left, and the run's peak would be their sum rather than its largest stage's.
    (Extraction always runs here: its model runs in worker processes already, and it reports progress to the
    caller.)"""
    if not own_process:
        return stage(*args)
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger().level
    with ProcessPoolExecutor(1, mp_context=context, initializer=_log_at, initargs=(level,)) as pool:
        return pool.submit(stage, *args).result()


def _log_at(level: int) -> None:
    """A spawned process starts without the caller's logging set-up: log as `geowire` does."""
    logging.basicConfig(level=level, format=LOG_FORMAT)


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
