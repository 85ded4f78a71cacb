"""Partition manifests: written by publish, deterministic, and they catch a tampered or incomplete partition."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipeline import contracts, manifest, storage
from pipeline.cli import app
from tests.conftest import stage_night
from tests.test_warehouse_swap import NIGHTS, night_article

DATE = "2026-01-07"


def publish_with_manifest(wh, tmp_path, date=DATE):
    """What `stages.publish` does: describe the staged files, publish them, write the manifest last."""
    staged = stage_night([night_article(a) for a in NIGHTS[date]], tmp_path / "staged")
    contents = manifest.describe(staged, date)
    manifest.remove(wh, date)
    storage.publish_partition(staged, wh, date)
    return manifest.write(wh, date, contents)


def verify(wh, date=DATE):
    return CliRunner().invoke(app, ["verify", "--warehouse", str(wh), "--date", date])


def test_manifest_lists_rows_hashes_and_versions(tmp_path):
    wh = tmp_path / "wh"
    path = publish_with_manifest(wh, tmp_path)
    assert path == wh / "parquet" / "_manifests" / f"date={DATE}" / "manifest.json"
    contents = json.loads(path.read_text())
    assert contents["schema_version"] == "1" and contents["date"] == DATE and contents["pipeline_version"]
    assert set(contents["tables"]) == set(contracts.table_names())
    articles = contents["tables"]["articles"]
    assert articles["rows"] == 1 and articles["path"] == f"articles/date={DATE}/part-0.parquet"
    assert manifest.verify_manifest(wh, DATE) == []
    result = verify(wh)
    assert result.exit_code == 0 and f"partition {DATE}: ok" in result.stdout


def test_manifest_is_deterministic(tmp_path):
    wh = tmp_path / "wh"
    first = publish_with_manifest(wh, tmp_path).read_bytes()
    assert publish_with_manifest(wh, tmp_path).read_bytes() == first


def test_tampering_is_detected(tmp_path):
    wh = tmp_path / "wh"
    publish_with_manifest(wh, tmp_path)
    events = wh / "parquet" / "events" / f"date={DATE}" / "part-0.parquet"
    # A file replaced by a valid Parquet file with other rows: same schema, different bytes.
    pq.write_table(storage.to_arrow("articles", [night_article("x"), night_article("y")]), wh / "other.parquet")
    articles = wh / "parquet" / "articles" / f"date={DATE}" / "part-0.parquet"
    articles.write_bytes((wh / "other.parquet").read_bytes())
    events.unlink()
    problems = manifest.verify_manifest(wh, DATE)
    assert any(p.startswith("articles:") and "has changed" in p for p in problems)
    assert any(p.startswith("events:") and "missing" in p for p in problems)
    assert len(problems) == 2
    result = verify(wh)
    assert result.exit_code == 1 and "does not match its manifest (2 problems)" in result.stderr


def test_rows_and_versions_are_checked_against_the_manifest(tmp_path):
    wh = tmp_path / "wh"
    path = publish_with_manifest(wh, tmp_path)
    contents = json.loads(path.read_text())
    contents["tables"]["articles"]["rows"] = 5
    contents["schema_version"] = "0"
    del contents["tables"]["commitments"]
    path.write_text(json.dumps(contents))
    problems = manifest.verify_manifest(wh, DATE)
    assert "articles: 1 rows, manifest says 5" in problems
    assert "commitments: not in the manifest" in problems
    assert any("schema_version '0'" in p for p in problems)


def test_a_partition_without_manifest_is_not_safe_to_read(tmp_path):
    wh = tmp_path / "wh"
    publish_with_manifest(wh, tmp_path)
    manifest.remove(wh, DATE)  # as during a republish, between the first rename and the new manifest
    [problem] = manifest.verify_manifest(wh, DATE)
    assert "no manifest" in problem
    assert verify(wh).exit_code == 1
    assert verify(wh, "2026-01-08").exit_code == 1
