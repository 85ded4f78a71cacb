from __future__ import annotations

import gzip
import json
from collections import Counter

from pipeline.ingest.inbox import iter_input_files, read_inbox
from pipeline.records import QuarantinedInput, RawRecord
from tests.conftest import SAMPLE_ARTICLE, write_bad_inbox

MB = 1024 * 1024


def test_every_format_is_read(tmp_path):
    record = {
        "id": "r1",
        "title": "T",
        "text": "NATO met.",
        "published": "2026-01-05",
        "source": "wire",
        "url": "https://example.org/r1",
    }
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([{**record, "id": "r2"}, {**record, "id": "r3"}]), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({**record, "id": "r4"}), encoding="utf-8")
    (tmp_path / "d.txt").write_text("Plain text article.", encoding="utf-8")
    (tmp_path / "e.jsonl.gz").write_bytes(gzip.compress((json.dumps({**record, "id": "r5"}) + "\n").encode()))
    (tmp_path / "f.html").write_text(
        "<html><head><title>Summit</title></head><body><article><p>NATO allies met in Brussels on Tuesday to "
        "discuss support for Ukraine, and the United States pledged air defence systems.</p></article></body></html>",
        encoding="utf-8",
    )
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    items = list(read_inbox([tmp_path], 20 * MB))
    assert all(isinstance(i, RawRecord) for i in items), items
    by_id = {i.source_id: i for i in items}
    assert set(by_id) == {"r1", "r2", "r3", "r4", "r5", "d", "f"}
    assert by_id["r1"].source == "wire" and by_id["r1"].published == "2026-01-05"
    assert by_id["r1"].origin.endswith("a.jsonl:1")
    assert by_id["d"].source == "inbox"
    assert "Brussels" in by_id["f"].text and by_id["f"].title == "Summit"


def test_record_without_id_gets_file_and_line(tmp_path):
    (tmp_path / "feed.jsonl").write_text(json.dumps({"text": "NATO met."}) + "\n", encoding="utf-8")
    [item] = read_inbox([tmp_path / "feed.jsonl"], MB)
    assert item.source_id == "feed-1"


def test_every_bad_input_is_quarantined_with_its_reason(tmp_path):
    expected = write_bad_inbox(tmp_path / "inbox")
    expected.pop("non_english")  # decided by normalisation, not ingestion
    items = list(read_inbox([tmp_path / "inbox"], MB))
    quarantined = [i for i in items if isinstance(i, QuarantinedInput)]
    assert Counter(str(q.reason) for q in quarantined) == Counter(expected)
    for q in quarantined:
        assert q.path and q.detail
        assert q.payload is not None or q.payload_pointer is not None
    malformed = next(q for q in quarantined if q.reason == "malformed_json")
    assert malformed.line == 2 and malformed.payload.startswith('{"id": "broken"')
    binary = next(q for q in quarantined if q.reason == "binary_file")
    assert binary.payload_encoding == "base64"
    assert len([i for i in items if isinstance(i, RawRecord)]) == 3


def test_huge_payload_is_kept_as_a_pointer(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"id": "x", "text": ""}) + "\n" + "{" * 100_000 + "\n", encoding="utf-8")
    items = list(read_inbox([path], MB))
    assert [str(i.reason) for i in items] == ["missing_text", "malformed_json"]
    assert items[1].payload is None and items[1].payload_pointer == f"{path}:2"


def test_directories_are_walked_in_sorted_order(tmp_path):
    for name in ("b.txt", "a.txt", "sub/c.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.name for p in iter_input_files([tmp_path])] == ["a.txt", "b.txt", "c.txt"]


def test_sample_article_is_one_record():
    [item] = read_inbox([SAMPLE_ARTICLE], MB)
    assert item.source_id == "sample_article" and "security guarantees" in item.text
