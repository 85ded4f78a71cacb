"""news_nightly: the geowire pipeline, every night at 02:00 UTC.

Orchestration only. Each task calls one function of `pipeline.stages` and passes paths and counts
through XCom; heavy libraries (pandas, spaCy, GX, DuckDB) are imported inside the tasks, never at parse time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipeline.config import Settings
from pipeline.partition import partition_key

TABLES = ("articles", "actors", "actor_mentions", "events", "commitments")
_settings = Settings.from_env()
PUBLISHED = [Asset(name=f"geowire.{t}", uri=f"file://{_settings.warehouse.resolve()}/parquet/{t}") for t in TABLES]
WAREHOUSE_DB = Asset(name="geowire.duckdb", uri=f"file://{_settings.warehouse.resolve()}/geowire.duckdb")


@dag(
    dag_id="news_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one DuckDB file, one writer
    default_args={
        "retries": _settings.task_retries,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    tags=["geowire", "news"],
    params={
        "partition_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Reprocess this partition (YYYY-MM-DD) instead of the data interval's",
        )
    },
    doc_md=__doc__,
)
def news_nightly():
    @task
    def ingest() -> dict:
        from pipeline import stages

        ctx = get_current_context()
        settings = Settings.from_env()
        date = partition_key(
            ctx.get("data_interval_start"),
            ctx.get("data_interval_end"),
            ctx.get("logical_date"),
            requested=ctx["params"].get("partition_date"),
        )
        result = stages.ingest(settings.inbox, settings.warehouse, date, settings.max_input_bytes)
        return {
            "date": date,
            "warehouse": str(settings.warehouse),
            "inputs": [str(p) for p in settings.inbox],
            **result,
        }

    @task
    def normalize(run: dict) -> dict:
        from pipeline import stages

        s = Settings.from_env()
        return {**run, "normalize": stages.normalize(run["warehouse"], run["date"], s.workers, s.batch_size)}

    @task(execution_timeout=timedelta(hours=3))
    def extract(run: dict) -> dict:
        from pipeline import stages

        s = Settings.from_env()
        return {**run, "extract": stages.extract(run["warehouse"], run["date"], s.spacy_model, s.batch_size, s.workers)}

    @task
    def validate(run: dict) -> dict:
        from pipeline import stages

        return {**run, "validate": stages.validate(run["warehouse"], run["date"])}

    @task(outlets=PUBLISHED)
    def publish(run: dict) -> dict:
        from pipeline import stages

        return {**run, "publish": stages.publish(run["warehouse"], run["date"])}

    @task(outlets=[WAREHOUSE_DB])
    def load_warehouse(run: dict) -> dict:
        from pipeline import stages
        from pipeline.runner import summarize

        loaded = stages.load_warehouse(run["warehouse"], run["date"])
        seconds = {stage: run[stage]["seconds"] for stage in ("normalize", "extract", "validate", "publish")}
        seconds = {"ingest": run["seconds"], **seconds, "load_warehouse": loaded["seconds"]}
        return summarize(run["date"], run["warehouse"], run, run["normalize"], run["publish"], seconds)

    load_warehouse(publish(validate(extract(normalize(ingest())))))


news_nightly()
