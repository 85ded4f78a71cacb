"""Bounded memory must not change results: the DuckDB sort writes the bytes the whole-table sort wrote, and the
near-duplicate index that keeps compressed texts finds the matches the one that kept shingle sets found."""

from __future__ import annotations

import os
import random
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import contracts, storage, warehouse
from pipeline.neardup import NearDuplicateIndex, jaccard, shingles
from tests.conftest import article_row, stage_night

WORDS = "summit talks aid pledge minister treaty border sanctions trade security council envoy".split()


def _article(rng: random.Random, i: int) -> dict:
    # Few distinct ids: many rows tie on the sort key, and the tie order must be the input order.
    return {
        "article_id": f"a{rng.randrange(500):04d}",
        "source_id": str(i),
        "source": rng.choice(["wire", "whitehouse.gov"]),
        "url": None if i % 7 == 0 else f"https://example.org/{i}",
        "title": rng.choice([None, "Readout", "Statement"]),
        "published_at": None if i % 5 == 0 else datetime(2026, 1, 1 + i % 28, i % 24, tzinfo=UTC),
        "language": "en",
        "text": " ".join(rng.choices(WORDS, k=rng.randrange(20, 120))),
        "content_hash": f"{rng.getrandbits(64):016x}",
        "duplicate_of": None,
        "word_count": i,
    }


def _event(rng: random.Random, i: int) -> dict:
    return {
        "event_id": f"e{i:06d}",
        "article_id": f"a{rng.randrange(300):04d}",
        "sentence_index": rng.randrange(40),
        "char_start": rng.randrange(100),  # ties on (article_id, char_start), broken by event_id
        "char_end": 200,
        "event_type": "AGREE",
        "cameo_code": "057",
        "cameo_root": "05",
        "quad_class": 1,
        "goldstein": rng.choice([4.0, -2.5]),
        "event_mode": None,
        "context": rng.choice([[], ["economic"], ["military", "diplomatic"]]),
        "source_actor_ids": ["USA"],
        "target_actor_ids": rng.choice([[], ["UKR", "POL"]]),
        "modality": "asserted",
        "event_date": date(2026, 1, 1 + i % 28),
        "location": None,
        "location_country": None,
        "trigger": "agreed",
        "evidence": " ".join(rng.choices(WORDS, k=12)),
        "confidence": 0.5,
    }


def _staged(path, name: str, rows: list[dict], chunk: int):
    """Rows written as the stages stage them: one write per batch, in input order."""
    schema = contracts.table(name).arrow_schema(storage.file_metadata())
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, len(rows), chunk):
            writer.write_table(pa.Table.from_pylist(rows[start : start + chunk], schema))
    return path


def _whole_table_sort(unsorted, path, keys, row_group_rows):
    """What `_write_sorted` did before: read, stable sort and write in one piece."""
    table = pq.read_table(unsorted)
    if table.num_rows:
        table = table.sort_by([(k, "ascending") for k in keys])
    pq.write_table(table.combine_chunks(), path, compression="zstd", row_group_size=row_group_rows)


def _assert_same_bytes(tmp_path, name, rows, chunk, row_group_rows, memory_limit="64MB"):
    keys = contracts.table(name).sort_by
    unsorted = _staged(tmp_path / f"{name}.unsorted.parquet", name, rows, chunk)
    _whole_table_sort(unsorted, tmp_path / "whole.parquet", keys, row_group_rows)
    storage.write_sorted_parquet(unsorted, tmp_path / "bounded.parquet", keys, memory_limit, row_group_rows)
    expected = (tmp_path / "whole.parquet").read_bytes()
    assert (tmp_path / "bounded.parquet").read_bytes() == expected
    assert not list(tmp_path.glob(".*")), "temp and spill files are removed"
    return pq.ParquetFile(tmp_path / "bounded.parquet")


def test_bounded_sort_writes_the_whole_table_sort_bytes_in_many_row_groups_with_ties(tmp_path):
    rng = random.Random(7)
    rows = [_article(rng, i) for i in range(20_000)]
    written = _assert_same_bytes(tmp_path, "articles", rows, chunk=3_000, row_group_rows=3_500, memory_limit="8MB")
    assert written.metadata.num_row_groups == 6
    assert written.schema_arrow.metadata[b"schema_version"] == contracts.schema_version().encode()


def test_bounded_sort_with_lists_dates_and_the_default_row_groups(tmp_path):
    rng = random.Random(11)
    rows = [_event(rng, i) for i in range(5_000)]
    rng.shuffle(rows)
    _assert_same_bytes(tmp_path, "events", rows, chunk=700, row_group_rows=storage.ROW_GROUP_ROWS)


def test_bounded_sort_of_an_empty_table(tmp_path):
    written = _assert_same_bytes(tmp_path, "events", [], chunk=1, row_group_rows=storage.ROW_GROUP_ROWS)
    assert written.metadata.num_rows == 0


def test_near_duplicates_found_from_compressed_texts_as_from_shingle_sets():
    rng = random.Random(3)
    base = [" ".join(rng.choices(WORDS, k=300)) for _ in range(30)]
    texts = []
    for i, text in enumerate(base):
        texts.append(text)
        if i % 3 == 0:  # a copy with another dateline and tail: near, not exact
            texts.append("WASHINGTON (wire) " + text + " Reporting by a wire desk.")
        if i % 5 == 0:  # half rewritten: below the threshold
            texts.append(" ".join(text.split()[:150] + rng.choices(WORDS, k=150)))
    index = NearDuplicateIndex()
    found: list[str | None] = []
    kept: list[tuple[str, set[bytes]]] = []
    expected: list[str | None] = []
    for i, text in enumerate(texts):
        first, signature = index.first_match(text)
        found.append(first)
        if first is None:
            index.add(str(i), text, signature)
        # the old rule: exact Jaccard against every original kept so far, earliest first
        own = shingles(text)
        match = next((aid for aid, other in kept if jaccard(own, other) >= 0.85), None)
        expected.append(match)
        if match is None:
            kept.append((str(i), own))
    assert found == expected
    assert sum(f is not None for f in found) >= 10


def _derive_checks_row_by_row(table: str, data: pa.Table, texts: dict[str, str], event_ids: set[str]) -> pa.Table:
    """derive_checks as it was, over whole rows as dicts: the reference for the column-wise version."""
    from pipeline.quality import DERIVED_COLUMNS

    rows = data.to_pylist()
    span = "text" if table == "actor_mentions" else "evidence"
    columns: dict[str, list] = {
        "_span_matches_article": [
            r["article_id"] in texts and texts[r["article_id"]][r["char_start"] : r["char_end"]] == r[span]
            for r in rows
        ],
        "_source_count": [len(r.get("source_actor_ids") or []) for r in rows],
        "_donor_count": [len(r.get("donor_actor_ids") or []) for r in rows],
        "_event_known": [r.get("event_id") in event_ids for r in rows],
    }
    for name in DERIVED_COLUMNS[table]:
        data = data.append_column(name, pa.array(columns[name]))
    return data


def test_derived_check_columns_are_computed_as_row_by_row():
    from pipeline.quality import derive_checks

    rng = random.Random(5)
    texts = {f"a{i:04d}": " ".join(rng.choices(WORDS, k=40)) for i in range(20)}
    events = [_event(rng, i) for i in range(300)]
    for i, event in enumerate(events):
        text = texts.get(event["article_id"], "")
        event["char_start"], event["char_end"] = 5, 5 + 20 + (i % 3)  # some spans right, some one or two long
        event["evidence"] = text[5:25] if event["article_id"] in texts else "gone"
        if i % 4 == 0:
            event["source_actor_ids"] = [] if i % 8 else ["USA", "GBR"]
    data = storage.to_arrow("events", events)
    event_ids = {e["event_id"] for e in events[::2]}
    expected = _derive_checks_row_by_row("events", data, texts, event_ids)
    assert derive_checks("events", data, texts, event_ids).equals(expected)
    assert 0 < sum(expected.column("_span_matches_article").to_pylist()) < len(events)
    assert sorted(set(expected.column("_source_count").to_pylist())) == [0, 1, 2]


def test_published_files_are_read_in_bounded_batches(tmp_path):
    rng = random.Random(3)
    table = storage.to_arrow("articles", [_article(rng, i) for i in range(2_500)])
    path = tmp_path / "articles.parquet"
    storage.write_parquet(table, path)
    reader = storage.parquet_batches(path, columns=["article_id", "text"], batch_rows=1_000)
    batches = list(reader)
    assert [b.num_rows for b in batches] == [1_000, 1_000, 500]
    assert pa.Table.from_batches(batches).equals(table.select(["article_id", "text"]))


def _signature(hashvalues: list[int]):
    """A MinHash with the given values, of the scheme `NearDuplicateIndex.first_match` makes."""
    from datasketch import MinHash

    from pipeline.neardup import NUM_PERM

    return MinHash(num_perm=NUM_PERM, scheme="affine32", hashvalues=hashvalues)


def test_on_disk_index_finds_the_candidates_of_datasketchs_lsh():
    from datasketch import MinHashLSH

    from pipeline.neardup import LSH_BANDS, NUM_PERM

    rng = random.Random(9)
    index = NearDuplicateIndex()
    lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
    # Few distinct values per position: many band collisions, some signatures sharing one band, some several.
    signatures = [_signature([rng.randrange(3) for _ in range(NUM_PERM)]) for _ in range(300)]
    for position, signature in enumerate(signatures):
        expected = sorted(int(key) for key in lsh.query(signature))
        assert index.candidates(signature) == expected
        index.add(f"a{position}", "text", signature)
        lsh.insert(str(position), signature)
    assert sum(len(index.candidates(s)) > 1 for s in signatures) > 50


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_near_duplicate_index_keeps_its_originals_on_disk(tmp_path):
    from pipeline.neardup import NUM_PERM, NearDuplicateMarker

    rng = random.Random(13)
    marker = NearDuplicateMarker(tmp_path, "2026-01-07")
    index_file = tmp_path / "_work" / "date=2026-01-07" / "neardup.sqlite"
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(3_000)]
    texts = [" ".join(rng.choices(vocabulary, k=500)) for _ in range(6_000)]  # some 2 kB each compressed
    signatures = [_signature([rng.getrandbits(32) for _ in range(NUM_PERM)]) for _ in texts]
    before = _resident_mb()
    for position, (text, signature) in enumerate(zip(texts, signatures, strict=True)):
        marker._index.add(f"a{position}", text, signature)
    assert _resident_mb() - before < 15  # kept in memory, these originals took some 50 MB
    assert index_file.stat().st_size > 6_000 * 2_000


def test_a_load_writes_the_night_in_small_row_groups_as_it_goes(tmp_path):
    """DuckDB writes an inserted row group to the file when it is full; with small row groups a load's
    transaction holds one of them, not the night's article texts. Every text arrives whole."""
    rng = random.Random(21)
    date_ = "2026-01-07"
    rows = [article_row(f"a{i:05d}", " ".join(rng.choices(WORDS, k=1_500))) for i in range(5_000)]  # ~60 MB
    storage.publish_partition(stage_night(rows, tmp_path / "staging"), tmp_path / "wh", date_)
    assert warehouse.load_partition(tmp_path / "wh", date_)["articles"] == len(rows)
    database = warehouse.database_path(tmp_path / "wh")
    assert not database.with_name(f"{database.name}.wal").exists()
    with duckdb.connect(str(database), read_only=True) as con:
        groups = con.execute(
            "SELECT row_group_id, max(count) FROM pragma_storage_info('news.articles') GROUP BY 1"
        ).fetchall()
        loaded = con.execute("SELECT article_id, text FROM news.articles ORDER BY article_id").fetchall()
    assert len(groups) == -(-len(rows) // warehouse.LOAD_ROW_GROUP_ROWS)
    assert max(rows_in_group for _, rows_in_group in groups) <= warehouse.LOAD_ROW_GROUP_ROWS
    assert loaded == [(r["article_id"], r["text"]) for r in rows]
