"""DAG integrity: it imports cleanly, parses without heavy libraries, and has the promised shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

DAG_FILE = REPO / "dags" / "news_nightly.py"
HEAVY = ("pandas", "pyarrow", "spacy", "duckdb", "great_expectations", "trafilatura", "numpy")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        }
    )
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dag_ids) == ["news_nightly"]


def test_dag_shape(dagbag):
    dag = dagbag.dags["news_nightly"]
    assert [t.task_id for t in dag.topological_sort()] == [
        "plan_ingest",
        "ingest_source",
        "ingest",
        "normalize",
        "extract",
        "validate",
        "publish",
        "load_warehouse",
        "report",
    ]
    assert dag.max_active_runs == 1
    assert not dag.catchup
    assert "geowire" in dag.tags
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.expression == "0 2 * * *"
    for t in dag.tasks:
        assert t.retries == 2, t.task_id  # GEOWIRE_TASK_RETRIES unset: the production default
    publish = dag.get_task("publish")
    assert {a.name for a in publish.outlets} == {
        f"geowire.{t}" for t in ("articles", "actors", "actor_mentions", "events", "commitments")
    }


def test_parsing_imports_no_heavy_library(tmp_path):
    code = (
        "import json, runpy, sys\n"
        f"runpy.run_path({str(DAG_FILE)!r})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
