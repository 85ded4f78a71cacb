"""Near-duplicates: syndicated copies of one wire story across outlets, with different headers, bylines or tails.

Texts are cut into 5-word shingles; MinHash LSH (datasketch's MinHash, banded in an SQLite index) finds
candidates, and a candidate counts only when the exact Jaccard similarity of the two shingle sets is at least
`THRESHOLD`, so the result does not depend on hashing luck. 0.85: a wire story under another outlet's dateline
and tail scores about 0.9; templated press releases that differ in a few names score about 0.8 and are kept apart.

A copy gets `duplicate_of` = the first article of its group, in a fixed order: the articles of the last
`LOOKBACK_PARTITIONS` published partitions (oldest first), then this partition's in input order. Exact
duplicates are already marked by content hash; texts under `MIN_WORDS` words are left to that exact check,
since a few shared sentences would make short texts look alike.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from pipeline import fs, storage
from pipeline.normalize import Article

SHINGLE_WORDS = 5
THRESHOLD = 0.85
NUM_PERM = 128
# 16 bands of 8 rows: a pair at Jaccard 0.85 becomes a candidate with p = 0.994, one at 0.5 with p = 0.06.
# Given, not derived from the threshold as datasketch's MinHashLSH does by numerical integration (seconds).
LSH_BANDS = (16, 8)
MIN_WORDS = 50
LOOKBACK_PARTITIONS = 7
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


class NearDuplicateIndex:
    """Originals seen so far; `first_match` names the earliest one a text nearly duplicates.

    The index lives in a SQLite file (`path`; by default a private temporary one), not in memory: an original
    costs some 20 kB, mostly its LSH bands, and a run must keep every original to compare each later article.
    A band is stored as its 8 MinHash values' bytes, so two texts share a band key exactly when datasketch's
    MinHashLSH would put them in one bucket: the candidates, and so the matches, are the same. An original's
    text is kept zlib-compressed and its shingles recomputed when it is a candidate, so the comparison is exact."""

    def __init__(self, path: Path | None = None) -> None:
        # "" is SQLite's private temporary database: on disk past a small page cache, removed on close.
        self._db = sqlite3.connect("" if path is None else str(path))
        # Scratch data of one run: nothing to recover after a crash, so no journal and no fsync.
        self._db.executescript(
            """PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE originals (position INTEGER PRIMARY KEY, article_id TEXT NOT NULL, packed BLOB NOT NULL);
            CREATE TABLE bands (band_key BLOB NOT NULL, position INTEGER NOT NULL);
            CREATE INDEX bands_by_key ON bands (band_key);"""
        )
        self._size = 0
        bands, rows = LSH_BANDS
        self._band_ranges = [(band, band * rows, (band + 1) * rows) for band in range(bands)]
        self._candidates_query = (
            "SELECT DISTINCT position FROM bands WHERE band_key IN (" + ",".join("?" * bands) + ") ORDER BY position"
        )

    def _band_keys(self, signature) -> list[bytes]:
        return [bytes([band]) + signature.hashvalues[start:end].tobytes() for band, start, end in self._band_ranges]

    def candidates(self, signature) -> list[int]:
        """Positions of the originals that share at least one band with `signature`, in the order they were added."""
        return [row[0] for row in self._db.execute(self._candidates_query, self._band_keys(signature))]

    def first_match(self, text: str) -> tuple[str | None, object]:
        from datasketch import MinHash

        shingle_set = shingles(text)
        # crc32: a deterministic hash in C, several times faster than datasketch's default SHA-1 per shingle.
        signature = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)
        signature.update_batch(list(shingle_set))
        for position in self.candidates(signature):
            article_id, packed = self._db.execute(
                "SELECT article_id, packed FROM originals WHERE position = ?", (position,)
            ).fetchone()
            if jaccard(shingle_set, shingles(zlib.decompress(packed).decode())) >= THRESHOLD:
                return article_id, signature
        return None, signature

    def add(self, article_id: str, text: str, signature) -> None:
        position = self._size
        self._db.execute(
            "INSERT INTO originals VALUES (?, ?, ?)", (position, article_id, zlib.compress(text.encode(), 1))
        )
        self._db.executemany("INSERT INTO bands VALUES (?, ?)", [(key, position) for key in self._band_keys(signature)])
        self._size += 1


class NearDuplicateMarker:
    """Marks the articles of one partition batch by batch, against the recent partitions and earlier batches."""

    def __init__(self, warehouse: str | fs.Location, date: str) -> None:
        work = storage.work_dir(warehouse, date)
        work.mkdir(parents=True, exist_ok=True)
        index_file = work / "neardup.sqlite"  # removed with the work directory after the load
        index_file.unlink(missing_ok=True)
        self._index = NearDuplicateIndex(index_file)
        for article_id, text in _earlier_originals(warehouse, date):
            if len(text.split()) >= MIN_WORDS:
                _, signature = self._index.first_match(text)
                self._index.add(article_id, text, signature)

    def mark(self, articles: Sequence[Article]) -> list[Article]:
        """The articles, with `duplicate_of` set on those that nearly repeat an earlier original."""
        marked: list[Article] = []
        for article in articles:
            if article.duplicate_of is None and article.word_count >= MIN_WORDS:
                first, signature = self._index.first_match(article.text)
                if first is None:
                    self._index.add(article.article_id, article.text, signature)
                else:
                    article = replace(article, duplicate_of=first)
            marked.append(article)
        return marked


def mark_near_duplicates(articles: Sequence[Article], warehouse: str | fs.Location, date: str) -> list[Article]:
    """`NearDuplicateMarker` on one list of articles."""
    return NearDuplicateMarker(warehouse, date).mark(articles)


def _earlier_originals(warehouse: str | fs.Location, date: str) -> Iterator[tuple[str, str]]:
    """(article_id, text) of the non-duplicate articles of the last published partitions before `date`."""
    dates = [d for d in storage.published_partitions(warehouse, "articles") if d < date][-LOOKBACK_PARTITIONS:]
    for d in dates:
        path = storage.partition_dir(warehouse, "parquet", "articles", d) / storage.PART_FILE
        table = storage.read_parquet(path, columns=["article_id", "text", "duplicate_of"])
        columns = (table.column(c).to_pylist() for c in table.column_names)
        for article_id, text, duplicate_of in zip(*columns, strict=True):
            if duplicate_of is None:
                yield article_id, text
