"""Ingest a run's sources one by one into the work directory, then merge them into the ingest stage's outputs.

Each source writes `<work>/sources/NNN-name/` on its own (so the DAG can map over sources, in parallel on a
Celery or Kubernetes executor); any error inside one source becomes a `source_failed` quarantine record there
and never reaches the others. `merge` concatenates the per-source files in the sources file's order, so the
merged output does not depend on which source finished first.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline import fs, storage
from pipeline.ingest import state
from pipeline.ingest.inbox import DEFAULT_SOURCE, read_inbox
from pipeline.ingest.sources import NetworkSettings, Source
from pipeline.records import QuarantinedInput, RawRecord, Reason, quarantine

log = logging.getLogger("geowire")
FALLBACKS_FILE = "summary_fallbacks.jsonl"


def source_dir(work: Path, index: int, name: str) -> Path:
    return Path(work) / "sources" / f"{index:03d}-{name}"


def ingest_source(
    index: int,
    source: Source,
    network: NetworkSettings,
    warehouse: str | fs.Location,
    work: Path,
    date: str,
    max_input_bytes: int,
) -> dict:
    """Read one source into its own directory; returns its counts. Never raises for a fault of the source."""
    out = source_dir(work, index, source.name)
    storage.remove_tree(out)  # a retried task starts clean
    records: Iterable[dict] = []
    written = _Tally()
    quarantined: list[dict] = []
    fallbacks: list[dict] = []
    pending: dict | None = None
    stats: dict = {}
    where = source.url or ":".join(source.paths)
    try:
        if source.type == "feed":
            from pipeline.ingest.web import ingest_feed

            result = ingest_feed(source, network, warehouse, date)
            records = [r.to_dict() for r in result.records]
            quarantined = [q.to_dict() for q in result.quarantined]
            fallbacks, pending, stats = result.fallbacks, result.pending, result.stats
        else:
            local_paths, origins = fs.fetch_inputs(source.paths, out / "inputs")  # object-store inputs downloaded
            records = _inbox_rows(read_inbox(local_paths, max_input_bytes), origins, source.name, quarantined)
        # Records stream to the file as they are read: an inbox of any size is never held in memory.
        storage.write_jsonl(out / "raw.jsonl", written.count(records))
    except Exception as exc:  # one broken source must not stop the others: it is quarantined whole
        log.exception("source %s failed", source.name)
        detail = f"source {source.name} failed: {type(exc).__name__}: {exc}"
        fallbacks, pending, written = [], None, _Tally()
        quarantined = [quarantine(where, None, Reason.SOURCE_FAILED, detail, traceback.format_exc()).to_dict()]
        storage.write_jsonl(out / "raw.jsonl", [])
    counts = {
        "name": source.name,
        "type": source.type,
        "records": written.n,
        "quarantined": len(quarantined),
        **stats,
    }
    storage.write_jsonl(out / "quarantine.jsonl", quarantined)
    storage.write_jsonl(out / FALLBACKS_FILE, fallbacks)
    storage.write_json(out / "pending_state.json", {"pending": pending})
    storage.write_json(out / "counts.json", counts)
    return counts


class _Tally:
    """Counts the rows that pass through it."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, rows: Iterable[dict]) -> Iterator[dict]:
        for row in rows:
            self.n += 1
            yield row


def _inbox_rows(
    items: Iterable[RawRecord | QuarantinedInput], origins: dict, source_name: str, quarantined: list[dict]
) -> Iterator[dict]:
    """The inbox's records as rows; bad inputs go to `quarantined` as they are met."""
    for item in items:
        row = fs.restore_origin(item.to_dict(), origins)
        if isinstance(item, RawRecord):
            # Inbox records that name no outlet take the source's name.
            outlet = source_name if item.source == DEFAULT_SOURCE else item.source
            yield {**row, "source": outlet}
        else:
            quarantined.append(row)


def merge(work: Path, sources: list[Source]) -> dict:
    """Per-source outputs -> raw.jsonl, quarantine_ingest.jsonl, fallbacks and pending state of the run."""
    records = 0
    quarantined: list[dict] = []
    fallbacks: list[dict] = []
    pending: list[dict] = []
    per_source: list[dict] = []
    merged = Path(work) / ".raw.jsonl.tmp"
    with open(merged, "w", encoding="utf-8") as raw:
        for index, source in enumerate(sources):
            out = source_dir(work, index, source.name)
            if not (out / "counts.json").exists():
                detail = f"source {source.name} left no output (its task failed or was not run)"
                where = source.url or ":".join(source.paths)
                quarantined.append(quarantine(where, None, Reason.SOURCE_FAILED, detail, None).to_dict())
                per_source.append({"name": source.name, "type": source.type, "records": 0, "quarantined": 1})
                continue
            # Copied line by line: the per-source files are written as `storage.write_jsonl` writes, so the
            # merged file has the same bytes as rewriting every record, without holding them.
            with open(out / "raw.jsonl", encoding="utf-8") as lines:
                for line in lines:
                    raw.write(line)
                    records += 1
            quarantined += storage.read_jsonl(out / "quarantine.jsonl")
            fallbacks += storage.read_jsonl(out / FALLBACKS_FILE)
            if (p := storage.read_json(out / "pending_state.json")["pending"]) is not None:
                pending.append(p)
            per_source.append(storage.read_json(out / "counts.json"))
    os.replace(merged, Path(work) / "raw.jsonl")
    storage.write_jsonl(work / "quarantine_ingest.jsonl", quarantined)
    storage.write_jsonl(work / FALLBACKS_FILE, fallbacks)
    storage.write_json(work / "pending_state.json", {"pending": pending})
    counts = {"inputs_read": records + len(quarantined), "records": records, "quarantined": len(quarantined)}
    return {**counts, "summary_fallbacks": len(fallbacks), "sources": per_source}


def publish_web_outputs(warehouse: str | fs.Location, date: str, work: Path) -> int:
    """At publish: file the summary fallbacks next to the input quarantine and record the state the run took in."""
    target = storage.partition_dir(warehouse, "quarantine", "inputs", date) / FALLBACKS_FILE
    fallbacks = storage.read_jsonl(work / FALLBACKS_FILE)
    if fallbacks:
        storage.write_jsonl(target, fallbacks)
    else:
        target.unlink(missing_ok=True)  # a rerun without fallbacks leaves none from an earlier attempt
    pending_file = work / "pending_state.json"
    pending = storage.read_json(pending_file)["pending"] if pending_file.exists() else []
    return state.commit_pending(warehouse, date, pending)
