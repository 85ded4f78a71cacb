from __future__ import annotations

import hashlib

import pyarrow.parquet as pq
import pytest

from pipeline import storage
from tests.conftest import article_row


def test_rows_are_sorted_and_typed_by_the_contract():
    table = storage.to_arrow("articles", [article_row("b"), article_row("a")])
    assert table.column("article_id").to_pylist() == ["a", "b"]
    assert table.schema.metadata[b"schema_version"] == b"1"
    assert b"pipeline_version" in table.schema.metadata


def test_writes_are_byte_identical(tmp_path):
    rows = [article_row("b"), article_row("a")]
    first = storage.write_parquet(storage.to_arrow("articles", rows), tmp_path / "1.parquet")
    second = storage.write_parquet(storage.to_arrow("articles", list(reversed(rows))), tmp_path / "2.parquet")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    meta = pq.read_metadata(first)
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert meta.metadata[b"schema_version"] == b"1"


def test_articles_hold_fewer_rows_per_row_group(tmp_path):
    """A row group is written and read whole: the articles' texts make theirs small, other tables keep 100,000."""
    n = storage.ARTICLE_ROW_GROUP_ROWS * 2 + 1
    articles = storage.to_arrow("articles", [article_row(f"a{i:05d}") for i in range(n)])
    storage.write_parquet(articles, tmp_path / "articles.parquet")
    assert pq.read_metadata(tmp_path / "articles.parquet").num_row_groups == 3
    storage.write_sorted_parquet(tmp_path / "articles.parquet", tmp_path / "sorted.parquet", ["article_id"])
    assert (tmp_path / "sorted.parquet").read_bytes() == (tmp_path / "articles.parquet").read_bytes()
    actors = storage.to_arrow("actors", [])
    assert storage.rows_per_group(actors.schema) == storage.ROW_GROUP_ROWS


def test_publish_replaces_a_partition_whole(tmp_path):
    warehouse = tmp_path / "wh"
    staged = storage.write_parquet(storage.to_arrow("articles", [article_row("a")]), tmp_path / "s1.parquet")
    storage.publish_partition({"articles": staged}, warehouse, "2026-01-07")
    staged = storage.write_parquet(
        storage.to_arrow("articles", [article_row("b"), article_row("c")]), tmp_path / "s2.parquet"
    )
    [path] = storage.publish_partition({"articles": staged}, warehouse, "2026-01-07").values()
    assert path == warehouse / "parquet" / "articles" / "date=2026-01-07" / "part-0.parquet"
    assert pq.read_table(path).column("article_id").to_pylist() == ["b", "c"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["part-0.parquet"]
    assert storage.published_partitions(warehouse, "articles") == ["2026-01-07"]


def test_a_failed_write_leaves_the_published_file(tmp_path):
    target = tmp_path / "part-0.parquet"
    storage.write_parquet(storage.to_arrow("articles", [article_row("a")]), target)
    before = target.read_bytes()
    with pytest.raises(AttributeError):
        storage.write_parquet("not a table", target)  # type: ignore[arg-type]
    assert target.read_bytes() == before
