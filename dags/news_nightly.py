"""news_nightly: the geowire pipeline, every night at 02:00 UTC.

Orchestration only. Each task calls one function of `pipeline.stages` and passes paths and counts
through XCom; heavy libraries (pandas, spaCy, GX, DuckDB) are imported inside the tasks, never at parse time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipeline import fs
from pipeline.config import Settings
from pipeline.partition import partition_key

TABLES = ("articles", "actors", "actor_mentions", "events", "commitments")
_settings = Settings.from_env()
PUBLISHED = [Asset(name=f"geowire.{t}", uri=f"{fs.uri(_settings.warehouse)}/parquet/{t}") for t in TABLES]
WAREHOUSE_DB = Asset(name="geowire.duckdb", uri=fs.uri(fs.local_dir(_settings.warehouse) / "geowire.duckdb"))


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
    def plan_ingest() -> list[dict]:
        """The run's sources, one item each with the run's date and settings: GEOWIRE_SOURCES if set, else the
        inbox (GEOWIRE_INBOX) as one source. (Airflow maps only over a task's whole return value.)"""
        from pipeline import stages
        from pipeline.ingest.sources import load_sources, plan_sources

        ctx = get_current_context()
        settings = Settings.from_env()
        date = partition_key(
            ctx.get("data_interval_start"),
            ctx.get("data_interval_end"),
            ctx.get("logical_date"),
            requested=ctx["params"].get("partition_date"),
        )
        if settings.sources:
            config = plan_sources((), load_sources(settings.sources))
        else:
            config = plan_sources(settings.inbox, None)
        stages.prepare_ingest(settings.warehouse, date)
        sources = [s.to_dict() for s in config.sources]
        run = {"date": date, "warehouse": str(settings.warehouse), "network": config.network.to_dict()}
        run["sources"] = sources
        return [{"run": run, "index": i, "source": s} for i, s in enumerate(sources)]

    @task(map_index_template="{{ source_name }}")
    def ingest_source(item: dict) -> dict:
        """One source (mapped): its fetch errors end in its own quarantine records, so it fails alone."""
        from pipeline import stages

        get_current_context()["source_name"] = item["source"]["name"]  # type: ignore[typeddict-unknown-key]
        run = item["run"]
        s = Settings.from_env()
        return stages.ingest_source(
            item["index"], item["source"], run["network"], run["warehouse"], run["date"], s.max_input_bytes
        )

    @task(trigger_rule="all_done")  # a source whose task died is quarantined by the merge, not fatal to the run
    def ingest(plan: list[dict]) -> dict:
        from pipeline import stages

        run = plan[0]["run"]
        result = stages.merge_ingest(run["warehouse"], run["date"], run["sources"])
        sources = [s["name"] for s in run["sources"]]
        return {"date": run["date"], "warehouse": run["warehouse"], "inputs": sources, **result}

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

    @task
    def report(run: dict) -> str:
        from pipeline.report import write_report

        return str(write_report(run["warehouse"], run["date"]))

    plan = plan_ingest()
    fetched = ingest_source.expand(item=plan)
    merged = ingest(plan)
    fetched >> merged
    report(load_warehouse(publish(validate(extract(normalize(merged))))))


news_nightly()
