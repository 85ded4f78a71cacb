"""`geowire run` end to end: real files in, real Parquet and DuckDB out."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import REPO, SAMPLE_ACTORS, SAMPLE_ARTICLE, parquet_hashes, write_bad_inbox

DATE = "2026-01-07"


def geowire(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process: exit codes and stderr as a user sees them."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True, text=True, cwd=REPO, env=None if env is None else {**os.environ, **env},
    )


def geowire_in_process(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The same command through Typer's runner in this process, so the heavy imports are paid once."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


class SampleRun(NamedTuple):
    warehouse: Path
    summary: dict  # the first run's `--json` output
    again: dict  # the second run's
    hashes: dict[str, str]  # the published files after the first run
    log: str  # the first run's stderr, with `-v`


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_ARTICLE, inbox / "sample_article.txt")
    shutil.copy(REPO / "pipeline" / "sample_inbox" / "whitehouse_releases.jsonl", inbox / "wh.jsonl")
    warehouse = root / "wh"
    # The first run gives normalise, validate and load a process each, as a large night does; the second runs
    # them in its own process, as a small one does. Both must publish the same bytes.
    first = geowire(
        "-v", "run", "--input", str(inbox), "--warehouse", str(warehouse), "--date", DATE, "--json",
        env={"GEOWIRE_STAGE_PROCESS_RECORDS": "1"},
    )
    assert first.returncode == 0, first.stderr
    hashes = parquet_hashes(warehouse)
    second = geowire_in_process("run", "--input", str(inbox), "--warehouse", str(warehouse), "--date", DATE, "--json")
    assert second.returncode == 0, second.stderr
    return SampleRun(warehouse, json.loads(first.stdout), json.loads(second.stdout), hashes, first.stderr)


def test_rerun_is_byte_identical(sample_run):
    assert len(sample_run.hashes) == 5
    assert parquet_hashes(sample_run.warehouse) == sample_run.hashes


def test_summary_counts(sample_run):
    summary, again = sample_run.summary, sample_run.again
    assert summary["inputs_read"] == 6 and summary["articles_published"] == 6
    assert summary["duplicates"] == 0 and summary["quarantined"] == 0 and summary["counts_balance"]
    assert set(summary["seconds"]) == {"ingest", "normalize", "extract", "validate", "publish", "load_warehouse"}
    assert again["rows"] == summary["rows"]


def test_verbose_logs_a_line_per_stage_also_from_the_stages_in_their_own_process(sample_run):
    log = sample_run.log
    for stage in ("ingest", "normalize", "extract", "validate", "publish", "load_warehouse"):
        assert re.search(rf"^INFO {stage} {{", log, re.MULTILINE), f"no log line of {stage}:\n{log[-2000:]}"


def test_published_layout_and_metadata(sample_run):
    warehouse, summary = sample_run.warehouse, sample_run.summary
    for table in ("articles", "actors", "actor_mentions", "events", "commitments"):
        path = warehouse / "parquet" / table / f"date={DATE}" / "part-0.parquet"
        meta = pq.read_metadata(path)
        assert meta.metadata[b"schema_version"] == b"1" and meta.num_rows == summary["rows"][table]
    assert (warehouse / "quality" / f"date={DATE}" / "articles.json").exists()
    assert (warehouse / "quality" / "data_docs" / "index.html").exists()
    assert not (warehouse / "_work" / f"date={DATE}").exists()


def test_sample_actors_in_duckdb(sample_run):
    warehouse = sample_run.warehouse
    with duckdb.connect(str(warehouse / "geowire.duckdb"), read_only=True) as con:
        actors = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT m.actor_id FROM news.actor_mentions m JOIN news.articles a USING (article_id) "
                "WHERE a.source_id = 'sample_article'"
            ).fetchall()
        }
        assert actors >= SAMPLE_ACTORS
        [(n_articles,)] = con.execute("SELECT count(*) FROM news.articles").fetchall()
        assert n_articles == 6  # the rerun replaced the partition, it did not append
        spans = con.execute(
            "SELECT count(*) FROM news.actor_mentions m JOIN news.articles a USING (article_id) "
            "WHERE substr(a.text, m.char_start + 1, m.char_end - m.char_start) <> m.text"
        ).fetchall()
        assert spans == [(0,)]


def test_bad_inputs_are_quarantined_and_counted(tmp_path):
    expected = write_bad_inbox(tmp_path / "inbox")
    warehouse = tmp_path / "wh"
    result = geowire_in_process(
        "run",
        "--input",
        str(tmp_path / "inbox"),
        "--warehouse",
        str(warehouse),
        "--date",
        DATE,
        "--json",
        env={"GEOWIRE_MAX_INPUT_BYTES": str(1024 * 1024)},
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["quarantined_by_reason"] == expected
    assert summary["inputs_read"] == summary["articles_published"] + summary["duplicates"] + summary["quarantined"]
    records = [
        json.loads(line)
        for line in (warehouse / "quarantine" / "inputs" / f"date={DATE}" / "inputs.jsonl").read_text().splitlines()
    ]
    assert sorted(r["reason"] for r in records) == sorted(r for r, n in expected.items() for _ in range(n))
    assert all(r["path"] and r["detail"] for r in records)


def test_duplicates_within_and_across_partitions(tmp_path):
    text = "NATO allies met in Brussels on Tuesday to discuss support for Ukraine."
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "1", "text": text, "source": "wire"},
                {"id": "2", "text": text + "  ", "source": "other"},  # same content: marked duplicate_of
                {"id": "1", "text": text, "source": "wire"},  # same article again: counted, not republished
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    warehouse = tmp_path / "wh"
    first = geowire_in_process("run", "--input", str(inbox), "--warehouse", str(warehouse), "--date", "2026-01-06")
    assert first.returncode == 0, first.stderr
    later = tmp_path / "later"
    later.mkdir()
    (later / "b.jsonl").write_text(json.dumps({"id": "9", "text": text, "source": "third"}) + "\n", encoding="utf-8")
    result = geowire_in_process("run", "--input", str(later), "--warehouse", str(warehouse), "--date", DATE, "--json")
    assert json.loads(result.stdout)["duplicates"] == 1
    first = pq.read_table(warehouse / "parquet" / "articles" / "date=2026-01-06" / "part-0.parquet").to_pylist()
    second = pq.read_table(warehouse / "parquet" / "articles" / f"date={DATE}" / "part-0.parquet").to_pylist()
    original = next(a for a in first if a["source_id"] == "1")
    assert next(a for a in first if a["source_id"] == "2")["duplicate_of"] == original["article_id"]
    assert second[0]["duplicate_of"] == original["article_id"]


def test_clear_errors(tmp_path):
    bad_date = geowire("run", "--input", str(SAMPLE_ARTICLE), "--warehouse", str(tmp_path), "--date", "tomorrow")
    assert bad_date.returncode == 1 and "YYYY-MM-DD" in bad_date.stderr
    missing = geowire("run", "--input", str(tmp_path / "nope"), "--warehouse", str(tmp_path), "--date", DATE)
    assert missing.returncode == 1 and "input not found" in missing.stderr


def test_warehouse_views_on_the_sample(sample_run):
    warehouse = sample_run.warehouse
    with duckdb.connect(str(warehouse / "geowire.duckdb"), read_only=True) as con:
        [(expected_dyads,)] = con.execute(
            "SELECT sum(len(source_actor_ids) * greatest(len(target_actor_ids), 1)) FROM news.events"
        ).fetchall()
        [(dyads,)] = con.execute("SELECT count(*) FROM news.event_dyads").fetchall()
        assert dyads == expected_dyads > 0
        joint = con.execute(
            "SELECT c.donor_actor_id, c.joint, c.n_donors FROM news.commitments_by_donor c "
            "JOIN news.articles a USING (article_id) WHERE a.source_id = 'sample_article' "
            "AND c.category = 'security_guarantee' ORDER BY c.donor_actor_id"
        ).fetchall()
        assert joint == [("REG:EUROPE", True, 2), ("USA", True, 2)]
        [(as_source,)] = con.execute(
            "SELECT sum(events_as_source) FROM news.actor_activity WHERE actor_id = 'RUS'"
        ).fetchall()
        [(coded,)] = con.execute(
            "SELECT count(*) FROM news.events WHERE list_contains(source_actor_ids, 'RUS')"
        ).fetchall()
        assert as_source == coded > 0
