"""The GX gate on valid and invalid tables: bad rows are split off, bad tables stop the publish."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import quality, storage


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    return quality.QualityGate(tmp_path_factory.mktemp("docs"))


def _mention(mid: str, start: int, end: int, text: str, actor: str = "USA") -> dict:
    return {
        "mention_id": mid,
        "article_id": "a1",
        "actor_id": actor,
        "sentence_index": 0,
        "char_start": start,
        "char_end": end,
        "text": text,
    }


TEXTS = {"a1": "The U.S. and NATO met."}


def _validate(gate, table_name, rows, run="date=2026-01-07"):
    data = storage.to_arrow(table_name, rows)
    checked = quality.derive_checks(table_name, data, TEXTS, set())
    result, failures, stops = gate.validate(table_name, checked, run)
    return data, result, failures, stops


def test_valid_rows_pass(gate):
    rows = [_mention("m1", 4, 8, "U.S."), _mention("m2", 13, 17, "NATO", "IGO:NATO")]
    _, result, failures, stops = _validate(gate, "actor_mentions", rows)
    assert result["success"] and not failures and not stops


def test_rows_failing_row_expectations_are_quarantined_with_the_reason(gate):
    rows = [
        _mention("m1", 4, 8, "U.S."),
        _mention("m2", 13, 17, "Nato", "IGO:NATO"),
        _mention("m3", 9, 9, "", "IGO:NATO"),
    ]
    data, result, failures, stops = _validate(gate, "actor_mentions", rows)
    assert not stops and not result["success"]
    passed, bad = quality.split_rows(data, failures)
    assert passed.column("mention_id").to_pylist() == ["m1"]
    reasons = dict(zip(bad.column("mention_id").to_pylist(), bad.column("quarantine_reason").to_pylist(), strict=True))
    assert "_span_matches_article" in reasons["m2"]
    assert "char_end" in reasons["m3"] and "_span_matches_article" not in reasons["m3"]


def test_duplicate_keys_stop_the_publish(gate):
    rows = [_mention("m1", 4, 8, "U.S."), _mention("m1", 4, 8, "U.S.")]
    _, _, _, stops = _validate(gate, "actor_mentions", rows)
    assert any("expect_column_values_to_be_unique(mention_id)" in s for s in stops)


def test_schema_drift_stops_the_publish(gate):
    data = storage.to_arrow("actors", [{"actor_id": "USA", "name": "United States", "actor_type": "country"}])
    drifted = data.append_column("extra", pa.array(["x"]))
    _, _, stops = gate.validate("actors", quality.derive_checks("actors", drifted, {}, set()), "date=2026-01-07")
    assert any("expect_table_columns_to_match_ordered_list" in s for s in stops)


def test_accepted_values_are_checked(gate):
    rows = [
        {"actor_id": "USA", "name": "United States", "actor_type": "country", "country_code": "USA"},
        {"actor_id": "usa", "name": "x", "actor_type": "nation"},
    ]
    data, _, failures, stops = _validate(gate, "actors", rows)
    assert not stops
    assert sorted(data.take(list(failures)).column("actor_id").to_pylist()) == ["usa"]


def test_data_docs_are_rendered(gate, tmp_path_factory):
    _validate(gate, "articles", [])
    gate.build_docs()
    docs = gate.context.get_docs_sites_urls()
    assert any(str(site["site_url"]).endswith("index.html") for site in docs)


# ------------------------------------------------------------------ chunks

WORDS = "summit talks aid pledge minister treaty border sanctions trade security council envoy".split()


def _texts(rng: random.Random) -> dict[str, str]:
    return {f"{i:016x}": " ".join(rng.choices(WORDS, k=60)) for i in range(40)}


def _partition(tmp_path, texts: dict[str, str], mentions: list[dict]) -> None:
    """A work directory with an articles file and a mentions file, both as the stages write them."""
    article_rows = [
        {
            "article_id": aid,
            "source_id": aid,
            "source": "wire",
            "language": "en",
            "text": text,
            "content_hash": f"{i:032x}",
            "word_count": 60,
        }
        for i, (aid, text) in enumerate(texts.items())
    ]
    storage.write_parquet(storage.to_arrow("articles", article_rows), tmp_path / "articles.parquet")
    storage.write_parquet(storage.to_arrow("actor_mentions", mentions), tmp_path / "actor_mentions.parquet")


def _mentions(rng: random.Random, texts: dict[str, str], n: int) -> list[dict]:
    rows = []
    for i in range(n):
        aid = rng.choice(sorted(texts))
        start = rng.randrange(0, 200)
        end = start + rng.randrange(1, 12)
        row = _mention(f"m{i:05d}", start, end, texts[aid][start:end], rng.choice(["USA", "IGO:NATO"]))
        row["article_id"] = aid
        fault = i % 11
        if fault == 1:
            row["text"] = row["text"].upper() + "x"  # the span does not match the article
        elif fault == 2:
            row["char_end"] = row["char_start"]  # empty span: char_end not above char_start, span check passes
            row["text"] = ""
        elif fault == 3:
            row["sentence_index"] = -1
        elif fault == 4:
            row["article_id"] = "ffffffffffffffff"  # no such article
        rows.append(row)
    return rows


def _whole_table(gate, table: str, work, texts: dict[str, str]):
    """The reference: the table read whole, checked with every article text in a dict, validated in one piece."""
    data = storage.read_parquet(work / f"{table}.parquet")
    return gate.validate(table, quality.derive_checks(table, data, texts, set()), "date=2026-01-07")


def _comparable(result: dict) -> dict:
    return {
        "success": result["success"],
        "statistics": result["statistics"],
        "results": sorted(result["results"], key=lambda r: r["expectation_config"]["id"]),
    }


def _chunked(gate, table: str, work, chunk_rows: int):
    inputs = quality.CheckInputs(work)
    return quality.check_table(gate, table, work / f"{table}.parquet", "date=2026-01-07", inputs, set(), chunk_rows)


def test_a_table_in_chunks_gets_the_whole_tables_result(gate, tmp_path):
    rng = random.Random(21)
    texts = _texts(rng)
    _partition(tmp_path, texts, _mentions(rng, texts, 300))
    whole_result, whole_failures, whole_stops = _whole_table(gate, "actor_mentions", tmp_path, texts)
    result, failures, stops = _chunked(gate, "actor_mentions", tmp_path, chunk_rows=37)
    assert result["meta"]["row_chunks"] == 9
    assert not stops and not whole_stops
    assert failures == whole_failures and len(failures) > 80
    assert _comparable(result) == _comparable(whole_result)
    for path in ("validated", "quarantine"):
        assert not (tmp_path / path).exists()
    chunked_split = quality.write_split(
        tmp_path / "actor_mentions.parquet", failures, tmp_path / "v.parquet", tmp_path / "q.parquet"
    )
    passed, bad = quality.split_rows(storage.read_parquet(tmp_path / "actor_mentions.parquet"), whole_failures)
    assert chunked_split[:2] == (300, passed.num_rows) and chunked_split[2].equals(bad)


def test_a_duplicate_key_split_across_chunks_stops_the_publish(gate, tmp_path):
    rng = random.Random(22)
    texts = _texts(rng)
    mentions = _mentions(rng, texts, 120)
    mentions[100]["mention_id"] = mentions[5]["mention_id"]  # sorted by article, the two land in other chunks
    _partition(tmp_path, texts, mentions)
    whole_result, whole_failures, whole_stops = _whole_table(gate, "actor_mentions", tmp_path, texts)
    result, failures, stops = _chunked(gate, "actor_mentions", tmp_path, chunk_rows=10)
    assert stops == whole_stops == ["expect_column_values_to_be_unique(mention_id)"]
    unique = [r for r in result["results"] if r["expectation_config"]["type"] == "expect_column_values_to_be_unique"]
    positions = unique[0]["result"]["unexpected_index_list"]
    assert len(positions) == 2 and positions[1] // 10 != positions[0] // 10, "the copies are in different chunks"
    assert failures == whole_failures
    assert _comparable(result) == _comparable(whole_result)


def test_a_row_count_over_the_limit_stops_the_publish_though_every_chunk_is_under_it(tmp_path, monkeypatch):
    suite = quality.load_suite("actor_mentions")
    for expectation in suite["expectations"]:
        if expectation["type"] == "expect_table_row_count_to_be_between":
            expectation["kwargs"]["max_value"] = 100
    suites = tmp_path / "expectations"
    suites.mkdir()
    (suites / "actor_mentions.json").write_text(json.dumps(suite))
    monkeypatch.setattr(quality, "EXPECTATIONS_DIR", suites)
    small_gate = quality.QualityGate(tmp_path / "docs")
    rng = random.Random(23)
    texts = _texts(rng)
    _partition(tmp_path, texts, _mentions(rng, texts, 150))
    whole_result, _, whole_stops = _whole_table(small_gate, "actor_mentions", tmp_path, texts)
    result, _, stops = _chunked(small_gate, "actor_mentions", tmp_path, chunk_rows=60)
    assert stops == whole_stops == ["expect_table_row_count_to_be_between"]
    assert _comparable(result) == _comparable(whole_result)


def test_a_suite_with_an_expectation_chunks_cannot_judge_is_refused(tmp_path, monkeypatch):
    suite = quality.load_suite("actors")
    suite["expectations"].append({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "x"}, "meta": {}})
    (tmp_path / "actors.json").write_text(json.dumps(suite))
    monkeypatch.setattr(quality, "EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(ValueError, match="cannot be judged in row chunks"):
        quality.QualityGate(tmp_path / "docs").validate("actors", storage.to_arrow("actors", []), "date=2026-01-07")


def test_the_split_is_written_in_row_groups_as_the_whole_table_write(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "ROW_GROUP_ROWS", 1_000)
    rng = random.Random(24)
    texts = _texts(rng)
    _partition(tmp_path, texts, _mentions(rng, texts, 3_500))
    source = tmp_path / "actor_mentions.parquet"
    assert pq.ParquetFile(source).metadata.num_row_groups == 4
    failures = {p: [f"reason {p % 3}"] for p in rng.sample(range(3_500), 400)}
    quality.write_split(source, failures, tmp_path / "split" / "passed.parquet", tmp_path / "split" / "bad.parquet")
    passed, bad = quality.split_rows(storage.read_parquet(source), failures)
    storage.write_parquet(passed, tmp_path / "whole" / "passed.parquet")
    storage.write_parquet(bad, tmp_path / "whole" / "bad.parquet")
    for name in ("passed.parquet", "bad.parquet"):
        assert (tmp_path / "split" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_article_texts_are_looked_up_in_any_order_with_the_last_copy_of_an_id(tmp_path):
    rows = [(f"{i:04d}", f"text {i}") for i in range(0, 500, 2)] + [("0100", "second copy")]
    table = pa.table({"article_id": [r[0] for r in rows], "text": [r[1] for r in rows]})
    table = table.sort_by("article_id")
    storage.write_parquet(table, tmp_path / "articles.parquet")
    expected = dict(rows)
    texts = quality.ArticleTexts(tmp_path / "articles.parquet", batch_rows=7)
    rng = random.Random(25)
    for _ in range(30):
        ids = [f"{rng.randrange(520):04d}" for _ in range(rng.randrange(1, 40))]
        if rng.random() < 0.7:
            ids.sort()
        assert texts.lookup([*ids, None]) == {i: expected[i] for i in ids if i in expected}


def test_rows_of_a_quarantined_article_follow_it_in_every_chunk(gate, tmp_path):
    rng = random.Random(26)
    texts = _texts(rng)
    _partition(tmp_path, texts, _mentions(rng, texts, 200))
    gone = set(sorted(texts)[::7])
    inputs = quality.CheckInputs(tmp_path)
    path = tmp_path / "actor_mentions.parquet"
    _, failures, _ = quality.check_table(gate, "actor_mentions", path, "date=2026-01-07", inputs, gone, 13)
    _, expected, _ = _whole_table(gate, "actor_mentions", tmp_path, texts)
    for position, article_id in enumerate(storage.read_parquet(path).column("article_id").to_pylist()):
        if article_id in gone:
            expected.setdefault(position, []).append("article quarantined")
    assert failures == expected
    assert sum(reasons[-1] == "article quarantined" for reasons in failures.values()) > 20


def test_with_no_failing_row_the_staged_file_is_what_a_rewrite_would_write(tmp_path):
    rng = random.Random(27)
    texts = _texts(rng)
    _partition(tmp_path, texts, _mentions(rng, texts, 500))
    sorted_staged = tmp_path / "sorted.parquet"  # as normalise and extract stage their tables
    storage.write_sorted_parquet(tmp_path / "actor_mentions.parquet", sorted_staged, ("article_id", "char_start"))
    for source in (tmp_path / "articles.parquet", sorted_staged):
        rows_in, passed, bad = quality.write_split(source, {}, tmp_path / "v.parquet", tmp_path / "q.parquet")
        assert rows_in == passed == pq.ParquetFile(source).metadata.num_rows and bad.num_rows == 0
        storage.write_parquet(storage.read_parquet(source), tmp_path / "rewritten.parquet")
        assert (tmp_path / "v.parquet").read_bytes() == (tmp_path / "rewritten.parquet").read_bytes()
        storage.write_parquet(quality.split_rows(storage.read_parquet(source), {})[1], tmp_path / "none.parquet")
        assert (tmp_path / "q.parquet").read_bytes() == (tmp_path / "none.parquet").read_bytes()
