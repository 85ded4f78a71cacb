"""The pipeline's stages as plain functions: ingest -> normalize -> extract -> validate -> publish -> load.

The Airflow DAG calls one function per task and the `geowire run` CLI calls them all in-process. Stages
hand data to each other through files in `<warehouse>/_work/date=D/` and return small dicts of paths and
counts (what goes into XCom).
"""

from __future__ import annotations

import functools
import itertools
import logging
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from datetime import date as date_type
from functools import cache
from pathlib import Path

import pyarrow as pa

from pipeline import contracts, fs, storage
from pipeline.ingest.sources import SourcesConfig
from pipeline.neardup import NearDuplicateMarker
from pipeline.normalize import Article, Sentence, normalize_record
from pipeline.records import RawRecord, Reason, quarantine

log = logging.getLogger("geowire")
ProgressCallback = Callable[[int], None]

# Non-English only when the language model is confident, so that short English texts are never lost.
NON_ENGLISH_CONFIDENCE = 0.9


def _timed(fn):
    @functools.wraps(fn)  # its name and module: the stage pickles by reference to run in another process
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        result["seconds"] = round(time.perf_counter() - started, 3)
        log.info("%s %s", fn.__name__, {k: v for k, v in result.items() if not isinstance(v, (dict, list))})
        return result

    return wrapper


def _work(warehouse: str | fs.Location, date: str) -> Path:
    return storage.work_dir(warehouse, date)


# ---------------------------------------------------------------- ingest


@_timed
def ingest(
    inputs: Sequence[str | Path],
    warehouse: str | fs.Location,
    date: str,
    max_input_bytes: int,
    sources: SourcesConfig | None = None,
) -> dict:
    """Read every source (`inputs` are one inbox; `sources` adds feeds and inboxes from a sources file) into raw
    records; bad inputs and failed fetches go to the input quarantine with their reason."""
    from pipeline.ingest import collect
    from pipeline.ingest.sources import plan_sources

    config = plan_sources(inputs, sources)
    work = prepare_ingest(warehouse, date)
    for index, source in enumerate(config.sources):
        collect.ingest_source(index, source, config.network, warehouse, work, date, max_input_bytes)
    return _merge_ingest(work, list(config.sources))


def prepare_ingest(warehouse: str | fs.Location, date: str) -> Path:
    work = _work(warehouse, date)
    storage.remove_tree(work)  # a rerun starts from its inputs, never from a previous attempt's leftovers
    return work


@_timed
def ingest_source(
    index: int, source: dict, network: dict, warehouse: str | fs.Location, date: str, max_input_bytes: int
) -> dict:
    """One source of the run (a mapped Airflow task); faults of the source end in its quarantine, never raise."""
    from pipeline.ingest import collect
    from pipeline.ingest.sources import NetworkSettings, Source

    return collect.ingest_source(
        index, Source.from_dict(source), NetworkSettings.from_dict(network), warehouse, _work(warehouse, date), date,
        max_input_bytes,
    )


@_timed
def merge_ingest(warehouse: str | fs.Location, date: str, sources: list[dict]) -> dict:
    """The per-source outputs of `ingest_source` -> the ingest stage's outputs, in the sources' order."""
    from pipeline.ingest.sources import Source

    return _merge_ingest(_work(warehouse, date), [Source.from_dict(s) for s in sources])


def _merge_ingest(work: Path, sources: list) -> dict:
    from pipeline.ingest import collect

    counts = collect.merge(work, sources)
    storage.write_json(work / "ingest.json", counts)  # publish reports inputs_read from here
    return {"work_dir": str(work), **counts}


# ---------------------------------------------------------------- normalize


@cache
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    lang, prob = _language_identifier().classify(text[:5000])
    return str(lang), float(prob)


def _earlier_articles(warehouse: fs.Location, date: str) -> tuple[dict[str, str], set[str]]:
    """content_hash -> first article_id, and the article ids, of partitions published before `date`."""
    hashes: dict[str, str] = {}
    ids: set[str] = set()
    for d in storage.published_partitions(warehouse, "articles"):
        if d >= date:
            continue
        path = storage.partition_dir(warehouse, "parquet", "articles", d) / storage.PART_FILE
        t = storage.read_parquet(path, columns=["article_id", "content_hash", "duplicate_of"])
        for aid, h, dup in zip(
            *(t.column(c).to_pylist() for c in ("article_id", "content_hash", "duplicate_of")), strict=True
        ):
            ids.add(aid)
            if dup is None:
                hashes.setdefault(h, aid)
    return hashes, ids


def _read_jsonl_rows(path: Path) -> Iterator[dict]:
    """One dict per line, read as it goes: a large input never sits in memory whole."""
    import json

    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, max(1, size))):
        yield chunk


def _ordered_map(fn: Callable, items: Iterable, workers: int, initializer: Callable, initargs: tuple = ()) -> Iterator:
    """fn over items, results in input order. With workers > 1 and more than one item, on a pool of spawned
    processes (each runs initializer once) with at most two items per process in flight, so memory stays flat
    however many items there are."""
    from concurrent.futures import Future, ProcessPoolExecutor

    iterator = iter(items)
    head = list(itertools.islice(iterator, 2))
    if workers <= 1 or len(head) < 2:
        initializer(*initargs)
        for item in itertools.chain(head, iterator):
            yield fn(item)
        return
    # spawn, not fork: a forked copy of a process holding Arrow and GX threads can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        pending: deque[Future] = deque()
        for item in itertools.chain(head, iterator):
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _no_setup() -> None:
    pass


def _normalize_chunk(rows: list[dict]) -> list[tuple[RawRecord, Article | None, dict | None]]:
    """Language check and normalisation of raw records: (record, article or None, quarantine entry or None)."""
    out: list[tuple[RawRecord, Article | None, dict | None]] = []
    for row in rows:
        record = RawRecord(**row)
        lang, prob = detect_language(record.text)
        if lang != "en" and prob >= NON_ENGLISH_CONFIDENCE:
            reason = f"language {lang} (p={prob:.2f}), not en"
            entry = quarantine(record.path, record.line, Reason.NON_ENGLISH, reason, record.text).to_dict()
            out.append((record, None, entry))
        else:
            out.append((record, normalize_record(record, language="en"), None))
    return out


@_timed
def normalize(warehouse: str | fs.Location, date: str, workers: int = 1, batch_size: int = 200) -> dict:
    """Raw records -> articles with clean text and sentences; language check; exact duplicates marked.
    Records stream through in batches (on `workers` processes); articles are written as they come and sorted
    once at the end, so memory holds the finished tables' Arrow data, never every record as Python objects."""
    import pyarrow.parquet as pq

    work = _work(warehouse, date)
    first_by_hash, earlier_ids = _earlier_articles(fs.location(warehouse), date)
    near_duplicates = NearDuplicateMarker(warehouse, date)
    seen_ids: set[str] = set()
    quarantined: list[dict] = []
    same_id: list[dict] = []
    articles_total = duplicates = 0
    unsorted = {"articles": work / "articles.unsorted.parquet", "sentences": work / "sentences.unsorted.parquet"}
    schemas = {"articles": contracts.table("articles").arrow_schema(storage.file_metadata()), "sentences": SENTENCES}
    work.mkdir(parents=True, exist_ok=True)
    writers = {name: pq.ParquetWriter(path, schemas[name]) for name, path in unsorted.items()}
    try:
        batches = _chunks(_read_jsonl_rows(work / "raw.jsonl"), batch_size)
        for results in _ordered_map(_normalize_chunk, batches, workers, _no_setup):
            articles: list[Article] = []
            for record, article, rejected in results:
                if article is None:
                    quarantined.append(rejected or {})
                    continue
                if article.article_id in seen_ids or article.article_id in earlier_ids:
                    same_id.append(
                        {"source_id": record.source_id, "origin": record.origin, "article_id": article.article_id}
                    )
                    continue
                seen_ids.add(article.article_id)
                first = first_by_hash.setdefault(article.content_hash, article.article_id)
                if first != article.article_id:
                    article = replace(article, duplicate_of=first)
                articles.append(article)
            articles = near_duplicates.mark(articles)
            duplicates += sum(a.duplicate_of is not None for a in articles)
            articles_total += len(articles)
            article_rows = [_article_row(a) for a in articles]
            writers["articles"].write_table(pa.Table.from_pylist(article_rows, schemas["articles"]))
            writers["sentences"].write_table(_sentence_table(articles))
    finally:
        for writer in writers.values():
            writer.close()
    storage.write_jsonl(work / "quarantine_normalize.jsonl", quarantined)
    storage.write_jsonl(work / "duplicate_inputs.jsonl", same_id)
    _write_sorted(unsorted["articles"], work / "articles.parquet", contracts.table("articles").sort_by)
    _write_sorted(unsorted["sentences"], work / "sentences.parquet", ("article_id", "sentence_index"))
    return {"articles": articles_total, "duplicates": duplicates + len(same_id), "quarantined": len(quarantined)}


def _write_sorted(unsorted: Path, path: Path, keys: Sequence[str]) -> None:
    """The staged rows sorted by `keys` into `path`, written as `storage.write_parquet` writes (deterministically),
    in bounded memory however many rows there are."""
    storage.write_sorted_parquet(unsorted, path, keys)
    unsorted.unlink()


def _article_row(a: Article) -> dict:
    return {column: getattr(a, column) for column in contracts.table("articles").column_names}


SENTENCES = pa.schema(
    [
        ("article_id", pa.string()),
        ("sentence_index", pa.int32()),
        ("char_start", pa.int32()),
        ("char_end", pa.int32()),
    ]
)


def _sentence_table(articles: Sequence[Article]) -> pa.Table:
    rows = [(a.article_id, s.index, s.start, s.end) for a in articles for s in a.sentences]
    columns = [pa.array([r[i] for r in rows], field.type) for i, field in enumerate(SENTENCES)]
    return pa.Table.from_arrays(columns, schema=SENTENCES)


def _iter_articles(work: Path, batch_rows: int) -> Iterator[Article]:
    """The staged articles in article_id order with their sentences, read a batch at a time."""
    import pyarrow.parquet as pq

    sentence_groups = _sentence_groups(work / "sentences.parquet", batch_rows)
    pending: tuple[str, list[Sentence]] | None = next(sentence_groups, None)
    for batch in pq.ParquetFile(work / "articles.parquet").iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            sentences: list[Sentence] = []
            # Both files are sorted by article_id; an article without sentences has no group.
            while pending is not None and pending[0] <= row["article_id"]:
                if pending[0] == row["article_id"]:
                    sentences = pending[1]
                pending = next(sentence_groups, None)
            yield Article(sentences=tuple(sentences), **row)


def _sentence_groups(path: Path, batch_rows: int) -> Iterator[tuple[str, list[Sentence]]]:
    import pyarrow.parquet as pq

    current: str | None = None
    group: list[Sentence] = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows * 50):
        for s in batch.to_pylist():
            if s["article_id"] != current:
                if current is not None:
                    yield current, group
                current, group = s["article_id"], []
            group.append(Sentence(s["sentence_index"], s["char_start"], s["char_end"]))
    if current is not None:
        yield current, group


# ---------------------------------------------------------------- extract


@cache
def load_nlp(model: str):
    import spacy
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex

    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise RuntimeError(f"spaCy model {model!r} is not installed (set GEOWIRE_SPACY_MODEL): {exc}") from exc
    # Split "U.S.-EU" and "U.S.-led" after the abbreviation, so the country inside is matched.
    infixes = [*list(nlp.Defaults.infixes or []), r"(?<=[A-Z]\.)-(?=[A-Za-z])"]
    tokenizer: Tokenizer = nlp.tokenizer  # type: ignore[assignment]  # spaCy types it as a callable
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


_WORKER_EXTRACTOR = None
EXTRACTED = ("actor_mentions", "events", "commitments")


def _init_worker(spacy_model: str) -> None:
    global _WORKER_EXTRACTOR
    from pipeline.extract.extractor import Extractor
    from pipeline.extract.gazetteer import load_gazetteer
    from pipeline.extract.lexicon import load_lexicon

    _WORKER_EXTRACTOR = Extractor(load_nlp(spacy_model), load_gazetteer(), load_lexicon())


def _extract_in_worker(job: tuple[list[Article], date_type]) -> dict:
    """One batch of articles -> its rows as Arrow tables, its actors in order of first mention, and counts."""
    from pipeline.extract.extractor import actor_row

    batch, fallback = job
    assert _WORKER_EXTRACTOR is not None
    results = _WORKER_EXTRACTOR.extract_batch(batch, fallback)
    rows: dict[str, list[dict]] = {name: [] for name in EXTRACTED}
    actors: dict[str, dict] = {}
    for result in results:
        rows["actor_mentions"] += [{"mention_id": m.mention_id, **asdict(m)} for m in result.mentions]
        rows["events"] += result.events
        rows["commitments"] += result.commitments
        for info in result.actors.values():
            actors.setdefault(info.actor_id, actor_row(info))
    return {
        "tables": {name: storage.to_arrow(name, r) for name, r in rows.items()},
        "actors": list(actors.values()),
        "articles": len(batch),
        "sentences": sum(len(a.sentences) for a in batch),
        "sentences_parsed": sum(r.sentences_parsed for r in results),
    }


@_timed
def extract(
    warehouse: str | fs.Location,
    date: str,
    spacy_model: str,
    batch_size: int = 200,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> dict:
    """Actors, mentions, events and commitments for every article that is not a duplicate. Articles stream
    from the staged file in batches; with workers > 1 the batches go to a pool of processes that each load
    the model once. Each batch's rows are appended to staging files, sorted once at the end: the result does
    not depend on the batch size or the number of workers."""
    import pyarrow.parquet as pq

    work = _work(warehouse, date)
    fallback = date_type.fromisoformat(date)
    unsorted = {name: work / f"{name}.unsorted.parquet" for name in EXTRACTED}
    writers = {
        name: pq.ParquetWriter(path, contracts.table(name).arrow_schema(storage.file_metadata()))
        for name, path in unsorted.items()
    }
    actors: dict[str, dict] = {}  # first mention in article_id order wins, as in a single pass
    counts = Counter({"articles_extracted": 0, "sentences_parsed": 0, "sentences": 0})
    originals = (a for a in _iter_articles(work, batch_size) if a.duplicate_of is None)
    jobs = ((batch, fallback) for batch in _chunks(originals, batch_size))
    try:
        for result in _ordered_map(_extract_in_worker, jobs, workers, _init_worker, (spacy_model,)):
            for name, table in result["tables"].items():
                writers[name].write_table(table)
            for row in result["actors"]:
                actors.setdefault(row["actor_id"], row)
            counts.update(
                articles_extracted=result["articles"],
                sentences_parsed=result["sentences_parsed"],
                sentences=result["sentences"],
            )
            if progress:
                progress(result["articles"])
    finally:
        for writer in writers.values():
            writer.close()
    storage.write_parquet(storage.to_arrow("actors", actors.values()), work / "actors.parquet")
    for name in EXTRACTED:
        _write_sorted(unsorted[name], work / f"{name}.parquet", contracts.table(name).sort_by)
    rows = {name: storage.row_count(work / f"{name}.parquet") for name in ("actors", *EXTRACTED)}
    return {**counts, **{f"{name}_rows": n for name, n in rows.items()}}


# ---------------------------------------------------------------- validate


@_timed
def validate(warehouse: str | fs.Location, date: str) -> dict:
    """Run the GX suites. Failing rows go to quarantine; a table-level failure stops the run here. Each table is
    validated and split in chunks (`quality.check_table`, `quality.write_split`): memory does not grow with it."""
    from pipeline import quality

    warehouse = fs.location(warehouse)
    work = _work(warehouse, date)
    quality_dir = warehouse / "quality"
    gate = quality.QualityGate(fs.local_dir(warehouse) / "quality" / "data_docs")
    inputs = quality.CheckInputs(work)
    stops: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    quarantined_articles: set[str] = set()
    for name in contracts.table_names():
        path = work / f"{name}.parquet"
        result, failures, stop = quality.check_table(gate, name, path, f"date={date}", inputs, quarantined_articles)
        storage.write_json(quality_dir / f"date={date}" / f"{name}.json", result)
        if stop:
            stops[name] = stop
            continue
        rows_in, passed, bad = quality.write_split(
            path, failures, work / "validated" / f"{name}.parquet", work / "quarantine" / f"{name}.parquet"
        )
        if name == "articles":
            quarantined_articles = set(bad.column("article_id").to_pylist())
        counts[name] = {"rows_in": rows_in, "passed": passed, "quarantined": bad.num_rows}
    gate.build_docs()
    if stops:
        details = "; ".join(f"{t}: {', '.join(s)}" for t, s in stops.items())
        raise quality.QualityGateError(f"partition {date} not published, table-level expectations failed: {details}")
    return {"tables": counts, "quality_dir": str(quality_dir)}


# ---------------------------------------------------------------- publish


@_timed
def publish(warehouse: str | fs.Location, date: str) -> dict:
    """Swap the validated partition into place (one rename per table), file its quarantine, and write its manifest
    last: a partition with a manifest is complete."""
    from pipeline import manifest
    from pipeline.ingest.collect import publish_web_outputs

    warehouse = fs.location(warehouse)
    work = _work(warehouse, date)
    validated = {name: work / "validated" / f"{name}.parquet" for name in contracts.table_names()}
    missing = [str(p) for p in validated.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"nothing validated to publish for {date}: {missing}")
    duplicate_of = storage.read_parquet(validated["articles"], columns=["duplicate_of"]).column("duplicate_of")
    quarantined_rows = {
        name: storage.row_count(work / "quarantine" / f"{name}.parquet") for name in contracts.table_names()
    }
    rows = {name: storage.row_count(path) for name, path in validated.items()}
    contents = manifest.describe(validated, date)
    manifest.remove(warehouse, date)
    published = storage.publish_partition(validated, warehouse, date)
    inputs_q = [
        *storage.read_jsonl(work / "quarantine_ingest.jsonl"),
        *storage.read_jsonl(work / "quarantine_normalize.jsonl"),
    ]
    storage.write_jsonl(storage.partition_dir(warehouse, "quarantine", "inputs", date) / "inputs.jsonl", inputs_q)
    publish_web_outputs(warehouse, date, work)
    storage.publish_partition(
        {name: work / "quarantine" / f"{name}.parquet" for name in contracts.table_names()},
        warehouse,
        date,
        area="quarantine",
    )
    manifest.write(warehouse, date, contents)
    dup_rows = len(duplicate_of) - duplicate_of.null_count
    same_id = len(storage.read_jsonl(work / "duplicate_inputs.jsonl"))
    reasons = Counter(q["reason"] for q in inputs_q)
    if quarantined_rows["articles"]:
        reasons["failed_quality_gate"] += quarantined_rows["articles"]
    return {
        "inputs_read": storage.read_json(work / "ingest.json")["inputs_read"],
        "articles_published": rows["articles"] - dup_rows,
        "duplicates": dup_rows + same_id,
        "quarantined": sum(reasons.values()),
        "quarantined_by_reason": dict(sorted(reasons.items())),
        "rows": rows,
        "quarantined_rows": quarantined_rows,
        "paths": {name: str(p) for name, p in published.items()},
    }


# ---------------------------------------------------------------- load


@_timed
def load_warehouse(warehouse: str | fs.Location, date: str) -> dict:
    """Load the published partition into DuckDB (delete the date, insert it, in one transaction)."""
    from pipeline.warehouse import database_path, load_partition

    loaded = load_partition(warehouse, date)
    storage.remove_tree(_work(warehouse, date))
    return {"database": str(database_path(warehouse)), "rows": loaded}
