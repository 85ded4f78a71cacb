"""One real Airflow run of `news_nightly` (SQLite metadata DB, `airflow dags test`) into a temporary
warehouse, run twice: the second run must replace the partition with byte-identical files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, SAMPLE_ACTORS, parquet_hashes

pytestmark = pytest.mark.slow
DATE = "2026-01-07"
CONF = f'{{"partition_date": "{DATE}"}}'


def airflow_env(home: Path, warehouse: Path, **geowire: str) -> dict[str, str]:
    """The environment of a real Airflow run in `home` (SQLite) into `warehouse`, plus GEOWIRE_* settings."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "GEOWIRE_WAREHOUSE": str(warehouse),
        "GEOWIRE_TASK_RETRIES": "0",  # a failing task fails the test now, not after the retry delays
        **geowire,
    }


def _airflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(airflow), *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.fixture(scope="module")
def airflow_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("airflow")
    inbox = root / "inbox"
    shutil.copytree(REPO / "pipeline" / "sample_inbox", inbox)
    env = airflow_env(root / "home", root / "warehouse", GEOWIRE_INBOX=str(inbox))
    migrate = _airflow(["db", "migrate"], env)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    first = _airflow(["dags", "test", "news_nightly", "-c", CONF], env)
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-5000:]
    hashes = parquet_hashes(root / "warehouse")
    second = _airflow(["dags", "test", "news_nightly", "-c", CONF], env)
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-5000:]
    return root / "warehouse", first.stdout + first.stderr, hashes


def test_every_task_succeeded(airflow_runs):
    _, log, _ = airflow_runs
    for task in ("ingest", "normalize", "extract", "validate", "publish", "load_warehouse", "report"):
        assert f"end task task_id={task} " in log, task
    [finished] = [line for line in log.splitlines() if "DagRun Finished" in line]
    assert "state=success" in finished


def test_partition_published_and_rerun_identical(airflow_runs):
    warehouse, _, first_hashes = airflow_runs
    assert sorted(first_hashes) == [
        f"parquet/{t}/date={DATE}/part-0.parquet"
        for t in sorted(("articles", "actors", "actor_mentions", "events", "commitments"))
    ]
    assert parquet_hashes(warehouse) == first_hashes


def test_warehouse_lists_the_sample_actors(airflow_runs):
    warehouse, _, _ = airflow_runs
    with duckdb.connect(str(warehouse / "geowire.duckdb"), read_only=True) as con:
        actors = {r[0] for r in con.execute("SELECT actor_id FROM news.actors").fetchall()}
        partitions = con.execute("SELECT DISTINCT partition_date::VARCHAR FROM news.articles").fetchall()
    assert actors >= SAMPLE_ACTORS
    assert partitions == [(DATE,)]
    assert (warehouse / "runs" / f"date={DATE}" / "summary.json").exists()
    assert "<svg" in (warehouse / "reports" / f"{DATE}.html").read_text(encoding="utf-8")
