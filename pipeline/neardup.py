"""Near-duplicates: syndicated copies of one wire story across outlets, with different headers, bylines or tails.

Texts are cut into 5-word shingles; MinHash LSH (datasketch) finds candidates, and a candidate counts only when
the exact Jaccard similarity of the two shingle sets is at least `THRESHOLD`, so the result does not depend on
hashing luck. 0.85: a wire story under another outlet's dateline and tail scores about 0.9; templated press
releases that differ in a few names score about 0.8 and are kept apart.

A copy gets `duplicate_of` = the first article of its group, in a fixed order: the articles of the last
`LOOKBACK_PARTITIONS` published partitions (oldest first), then this partition's in input order. Exact
duplicates are already marked by content hash; texts under `MIN_WORDS` words are left to that exact check,
since a few shared sentences would make short texts look alike.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace

from pipeline import fs, storage
from pipeline.normalize import Article

SHINGLE_WORDS = 5
THRESHOLD = 0.85
NUM_PERM = 128
# 16 bands of 8 rows: a pair at Jaccard 0.85 becomes a candidate with p = 0.994, one at 0.5 with p = 0.06.
# Given, not derived from the threshold, because datasketch derives them by numerical integration (seconds).
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

    An original is kept as its zlib-compressed text (about a third of the text's size), not as its shingle set
    (some fifteen times the text's size as Python objects): the shingles of an LSH candidate are recomputed when
    it is compared, so an original costs some 20 kB (mostly LSH bands), not 200, and the comparison stays exact."""

    def __init__(self) -> None:
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
        self._originals: list[tuple[str, bytes]] = []

    def first_match(self, text: str) -> tuple[str | None, object]:
        from datasketch import MinHash

        shingle_set = shingles(text)
        # crc32: a deterministic hash in C, several times faster than datasketch's default SHA-1 per shingle.
        signature = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)
        signature.update_batch(list(shingle_set))
        for position in sorted(int(k) for k in self._lsh.query(signature)):
            article_id, packed = self._originals[position]
            if jaccard(shingle_set, shingles(zlib.decompress(packed).decode())) >= THRESHOLD:
                return article_id, signature
        return None, signature

    def add(self, article_id: str, text: str, signature) -> None:
        self._lsh.insert(str(len(self._originals)), signature)
        self._originals.append((article_id, zlib.compress(text.encode(), 1)))


class NearDuplicateMarker:
    """Marks the articles of one partition batch by batch, against the recent partitions and earlier batches."""

    def __init__(self, warehouse: str | fs.Location, date: str) -> None:
        self._index = NearDuplicateIndex()
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
