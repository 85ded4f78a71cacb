"""The pipeline's stages as plain functions: ingest -> normalize -> extract -> validate -> publish -> load.

The Airflow DAG calls one function per task and the `geowire run` CLI calls them all in-process. Stages
hand data to each other through files in `<warehouse>/_work/date=D/` and return small dicts of paths and
counts (what goes into XCom).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from functools import cache
from pathlib import Path

import pyarrow as pa

from pipeline import contracts, fs, storage
from pipeline.ingest.sources import SourcesConfig
from pipeline.neardup import mark_near_duplicates
from pipeline.normalize import Article, Sentence, normalize_record
from pipeline.records import RawRecord, Reason, quarantine

log = logging.getLogger("geowire")
ProgressCallback = Callable[[int], None]

# Non-English only when the language model is confident, so that short English texts are never lost.
NON_ENGLISH_CONFIDENCE = 0.9


def _timed(fn):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        result["seconds"] = round(time.perf_counter() - started, 3)
        log.info("%s %s", fn.__name__, {k: v for k, v in result.items() if not isinstance(v, (dict, list))})
        return result

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
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


@_timed
def normalize(warehouse: Path, date: str) -> dict:
    """Raw records -> articles with clean text and sentences; language check; exact duplicates marked."""
    work = _work(warehouse, date)
    raw = storage.read_jsonl(work / "raw.jsonl")
    first_by_hash, earlier_ids = _earlier_articles(fs.location(warehouse), date)
    seen_ids: set[str] = set()
    articles: list[Article] = []
    quarantined: list[dict] = []
    same_id: list[dict] = []
    for row in raw:
        record = RawRecord(**row)
        lang, prob = detect_language(record.text)
        if lang != "en" and prob >= NON_ENGLISH_CONFIDENCE:
            reason = f"language {lang} (p={prob:.2f}), not en"
            quarantined.append(quarantine(record.path, record.line, Reason.NON_ENGLISH, reason, record.text).to_dict())
            continue
        article = normalize_record(record, language="en")
        if article.article_id in seen_ids or article.article_id in earlier_ids:
            same_id.append({"source_id": record.source_id, "origin": record.origin, "article_id": article.article_id})
            continue
        seen_ids.add(article.article_id)
        first = first_by_hash.setdefault(article.content_hash, article.article_id)
        if first != article.article_id:
            article = replace(article, duplicate_of=first)
        articles.append(article)
    articles = mark_near_duplicates(articles, warehouse, date)
    storage.write_jsonl(work / "quarantine_normalize.jsonl", quarantined)
    storage.write_jsonl(work / "duplicate_inputs.jsonl", same_id)
    storage.write_parquet(storage.to_arrow("articles", (_article_row(a) for a in articles)), work / "articles.parquet")
    storage.write_parquet(_sentence_table(articles), work / "sentences.parquet")
    return {
        "articles": len(articles),
        "duplicates": sum(a.duplicate_of is not None for a in articles) + len(same_id),
        "quarantined": len(quarantined),
    }


def _article_row(a: Article) -> dict:
    return {column: getattr(a, column) for column in contracts.table("articles").column_names}


def _sentence_table(articles: Sequence[Article]) -> pa.Table:
    rows = [(a.article_id, s.index, s.start, s.end) for a in articles for s in a.sentences]
    return pa.table(
        {
            "article_id": pa.array([r[0] for r in rows], pa.string()),
            "sentence_index": pa.array([r[1] for r in rows], pa.int32()),
            "char_start": pa.array([r[2] for r in rows], pa.int32()),
            "char_end": pa.array([r[3] for r in rows], pa.int32()),
        }
    )


def _load_articles(work: Path) -> list[Article]:
    articles = storage.read_parquet(work / "articles.parquet").to_pylist()
    sentences: dict[str, list[Sentence]] = {}
    for s in storage.read_parquet(work / "sentences.parquet").to_pylist():
        sentences.setdefault(s["article_id"], []).append(Sentence(s["sentence_index"], s["char_start"], s["char_end"]))
    return [Article(sentences=tuple(sentences.get(a["article_id"], ())), **a) for a in articles]


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


def _batches(items: Sequence[Article], size: int) -> Iterator[Sequence[Article]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


_WORKER_EXTRACTOR = None


def _init_worker(spacy_model: str) -> None:
    global _WORKER_EXTRACTOR
    from pipeline.extract.extractor import Extractor
    from pipeline.extract.gazetteer import load_gazetteer
    from pipeline.extract.lexicon import load_lexicon

    _WORKER_EXTRACTOR = Extractor(load_nlp(spacy_model), load_gazetteer(), load_lexicon())


def _extract_in_worker(batch: Sequence[Article], fallback) -> list:
    assert _WORKER_EXTRACTOR is not None
    return _WORKER_EXTRACTOR.extract_batch(batch, fallback)


@_timed
def extract(
    warehouse: Path,
    date: str,
    spacy_model: str,
    batch_size: int = 200,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> dict:
    """Actors, mentions, events and commitments for every article that is not a duplicate. With workers > 1,
    batches of articles go to a pool of processes that each load the model once; results keep input order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from datetime import date as date_type
    from functools import partial

    from pipeline.extract.extractor import actor_row

    work = _work(warehouse, date)
    articles = [a for a in _load_articles(work) if a.duplicate_of is None]
    fallback = date_type.fromisoformat(date)
    rows: dict[str, list[dict]] = {"actor_mentions": [], "events": [], "commitments": []}
    actors: dict[str, dict] = {}
    parsed = 0
    batches = list(_batches(articles, batch_size))
    if workers > 1 and len(batches) > 1:
        # spawn, not fork: a forked copy of a process holding Arrow and GX threads can deadlock.
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(spacy_model,)
        )
        results = pool.map(partial(_extract_in_worker, fallback=fallback), batches)
    else:
        pool = None
        _init_worker(spacy_model)
        results = (_extract_in_worker(batch, fallback) for batch in batches)
    try:
        for batch_results in results:
            for result in batch_results:
                rows["actor_mentions"] += [{"mention_id": m.mention_id, **asdict(m)} for m in result.mentions]
                rows["events"] += result.events
                rows["commitments"] += result.commitments
                parsed += result.sentences_parsed
                for info in result.actors.values():
                    actors.setdefault(info.actor_id, actor_row(info))
            if progress:
                progress(len(batch_results))
    finally:
        if pool is not None:
            pool.shutdown()
    tables = {
        "actors": storage.to_arrow("actors", actors.values()),
        **{name: storage.to_arrow(name, r) for name, r in rows.items()},
    }
    for name, table in tables.items():
        storage.write_parquet(table, work / f"{name}.parquet")
    return {
        "articles_extracted": len(articles),
        "sentences_parsed": parsed,
        "sentences": sum(len(a.sentences) for a in articles),
        **{f"{name}_rows": t.num_rows for name, t in tables.items()},
    }


# ---------------------------------------------------------------- validate


@_timed
def validate(warehouse: str | fs.Location, date: str) -> dict:
    """Run the GX suites. Failing rows go to quarantine; a table-level failure stops the run here."""
    from pipeline.quality import ARTICLE_CHILDREN, QualityGate, QualityGateError, derive_checks, split_rows

    warehouse = fs.location(warehouse)
    work = _work(warehouse, date)
    quality_dir = warehouse / "quality"
    gate = QualityGate(fs.local_dir(warehouse) / "quality" / "data_docs")
    tables = {name: storage.read_parquet(work / f"{name}.parquet") for name in contracts.table_names()}
    texts = dict(
        zip(
            tables["articles"].column("article_id").to_pylist(),
            tables["articles"].column("text").to_pylist(),
            strict=True,
        )
    )
    event_ids = set(tables["events"].column("event_id").to_pylist())
    stops: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    quarantined_articles: set[str] = set()
    for name in contracts.table_names():
        data = tables[name]
        checked = derive_checks(name, data, texts, event_ids)
        result, failures, stop = gate.validate(name, checked, run_name=f"date={date}")
        storage.write_json(quality_dir / f"date={date}" / f"{name}.json", result)
        if stop:
            stops[name] = stop
            continue
        if name in ARTICLE_CHILDREN and quarantined_articles:
            for position, aid in enumerate(data.column("article_id").to_pylist()):
                if aid in quarantined_articles:
                    failures.setdefault(position, []).append("article quarantined")
        passed, bad = split_rows(data, failures)
        if name == "articles":
            quarantined_articles = set(bad.column("article_id").to_pylist())
        storage.write_parquet(passed, work / "validated" / f"{name}.parquet")
        storage.write_parquet(bad, work / "quarantine" / f"{name}.parquet")
        counts[name] = {"rows_in": data.num_rows, "passed": passed.num_rows, "quarantined": bad.num_rows}
    gate.build_docs()
    if stops:
        details = "; ".join(f"{t}: {', '.join(s)}" for t, s in stops.items())
        raise QualityGateError(f"partition {date} not published, table-level expectations failed: {details}")
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
