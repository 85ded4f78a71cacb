from __future__ import annotations

from datetime import UTC, datetime

from pipeline.normalize import (
    canonical_url,
    clean_text,
    content_hash,
    is_heading,
    normalize_record,
    parse_published,
    split_sentences,
)
from pipeline.records import RawRecord


def test_line_break_inside_a_sentence_is_repaired(sample_text):
    text = clean_text(sample_text)
    assert "Canada, and the U.S., along with officials" in text
    assert "What's Happening?\nIn a significant development" in text


def test_headings_are_not_sentences(sample_text):
    text = clean_text(sample_text)
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert not any(
        s.startswith(("What's Happening?", "Why It's Important?", "What's Next?", "Beyond the Headlines"))
        for s in sentences
    )
    assert sentences[0].startswith("In a significant development, the United States")
    assert sentences[1].endswith("to end Russia's prolonged invasion of Ukraine.")
    assert any(s.startswith("U.K. Prime Minister Keir Starmer highlighted") for s in sentences)
    assert len(sentences) == 22


def test_heading_rule():
    assert is_heading("What's Happening?") and is_heading("Beyond the Headlines")
    assert not is_heading("The allies met in Paris.")
    assert not is_heading("the talks went on, officials said")


def test_unicode_and_whitespace_are_normalised():
    raw = "Cafe\u0301  talks\u00a0in\tParis\r\n\r\n\r\nNext   paragraph.\u200b"
    assert clean_text(raw) == "Caf\u00e9 talks in Paris\nNext paragraph."


def test_sentence_offsets_index_the_text():
    text = clean_text("NATO met in Brussels. The U.S. pledged aid to Ukraine.\nKyiv welcomed it.")
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "NATO met in Brussels.",
        "The U.S. pledged aid to Ukraine.",
        "Kyiv welcomed it.",
    ]
    assert [s.index for s in spans] == [0, 1, 2]


def test_a_speaker_label_in_capitals_does_not_end_a_sentence():
    text = "MS. JEAN-PIERRE: Good afternoon. MR. KIRBY: Thanks, Karine. Mr. Smith agreed."
    assert [text[s.start : s.end] for s in split_sentences(text)] == [
        "MS. JEAN-PIERRE: Good afternoon.", "MR. KIRBY: Thanks, Karine.", "Mr. Smith agreed."
    ]


def test_ids_are_deterministic_and_prefer_the_canonical_url():
    a = RawRecord(source_id="1", source="wire", text="Talks  held.", url="HTTPS://Example.org/x/?utm_source=a&b=2#top")
    b = RawRecord(source_id="2", source="other", text="Talks held.", url="https://example.org/x?b=2")
    na, nb = normalize_record(a, "en"), normalize_record(b, "en")
    assert na.url == "https://example.org/x?b=2"
    assert na.article_id == nb.article_id and len(na.article_id) == 16
    assert na.content_hash == nb.content_hash == content_hash("talks held.")
    c = RawRecord(source_id="1", source="wire", text="Talks held.")
    d = RawRecord(source_id="1", source="other", text="Talks held.")
    assert normalize_record(c, "en").article_id != normalize_record(d, "en").article_id


def test_canonical_url_keeps_meaningful_query():
    assert canonical_url("https://a.org/p?id=3&utm_medium=x&fbclid=1") == "https://a.org/p?id=3"
    assert canonical_url(None) is None


def test_published_dates():
    assert parse_published("2023-12-12") == datetime(2023, 12, 12, tzinfo=UTC)
    assert parse_published("2026-01-06T10:30:00+01:00") == datetime(2026, 1, 6, 9, 30, tzinfo=UTC)
    assert parse_published("Tue, 06 Jan 2026 10:30:00 GMT") == datetime(2026, 1, 6, 10, 30, tzinfo=UTC)
    assert parse_published("last Tuesday") is None
    assert parse_published(None) is None
