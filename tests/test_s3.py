"""An s3:// warehouse and s3:// inputs, against a real S3 server (moto's server mode on 127.0.0.1).

The same input is run into a local warehouse and into `s3://lake/wh`; both must publish byte-identical Parquet
and manifests and load the same rows into DuckDB (whose file, for the S3 warehouse, is in GEOWIRE_LOCAL_DIR).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from pipeline import contracts, fs
from pipeline.cli import app
from tests.conftest import SAMPLE_ARTICLE, parquet_hashes

DATE = "2026-01-07"
NEXT = "2026-01-08"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A local S3 server, the AWS environment pointing at it, and a bucket `lake`."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never look for credentials beyond the loopback
        env.setenv("GEOWIRE_LOCAL_DIR", str(tmp_path_factory.mktemp("local")))
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="lake")
        try:
            yield client
        finally:
            server.stop()


def geowire(*args: str):
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def s3_hashes(client, prefix: str, area: str = "parquet") -> dict[str, str]:
    """sha256 of every Parquet object under `prefix/area`, by key relative to `prefix`: as parquet_hashes."""
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="lake", Prefix=f"{prefix}/{area}/").get("Contents", [])]
    return {
        k.removeprefix(f"{prefix}/"): hashlib.sha256(client.get_object(Bucket="lake", Key=k)["Body"].read()).hexdigest()
        for k in sorted(keys)
        if k.endswith(".parquet")
    }


def table_rows(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM news.{t} ORDER BY ALL").fetchall() for t in contracts.table_names()}


@pytest.fixture(scope="module")
def runs(s3, tmp_path_factory):
    """The same inbox (the sample article, one empty file) run locally and from S3 into S3."""
    root = tmp_path_factory.mktemp("s3runs")
    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_ARTICLE, inbox / "sample_article.txt")
    (inbox / "empty.txt").write_bytes(b"")
    for f in sorted(inbox.iterdir()):
        s3.upload_file(str(f), "lake", f"inbox/{f.name}")
    local_wh = root / "wh"
    local = geowire("run", "--input", str(inbox), "--warehouse", str(local_wh), "--date", DATE, "--json")
    assert local.exit_code == 0, local.stderr
    remote = geowire("run", "--input", "s3://lake/inbox", "--warehouse", "s3://lake/wh", "--date", DATE, "--json")
    assert remote.exit_code == 0, remote.stderr
    return local_wh, json.loads(local.stdout), json.loads(remote.stdout)


def test_s3_run_publishes_the_same_parquet_as_a_local_run(s3, runs):
    local_wh, _, _ = runs
    local = parquet_hashes(local_wh)
    assert len(local) == len(contracts.table_names())
    assert s3_hashes(s3, "wh") == local
    quarantine = {
        str(p.relative_to(local_wh)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((local_wh / "quarantine").rglob("*.parquet"))
    }
    assert len(quarantine) == len(contracts.table_names())
    assert s3_hashes(s3, "wh", "quarantine") == quarantine


def test_s3_run_loads_the_same_rows_into_a_local_duckdb(runs):
    local_wh, _, _ = runs
    database = fs.local_dir("s3://lake/wh") / "geowire.duckdb"
    assert database.is_relative_to(Path(os.environ["GEOWIRE_LOCAL_DIR"]))
    remote_rows = table_rows(database)
    assert remote_rows == table_rows(local_wh / "geowire.duckdb")
    assert len(remote_rows["articles"]) == 1 and remote_rows["events"]
    assert not (fs.local_dir("s3://lake/wh") / "_work" / f"date={DATE}").exists()


def test_s3_run_writes_summary_quarantine_quality_and_manifest(s3, runs):
    local_wh, local_summary, remote_summary = runs
    for summary in (local_summary, remote_summary):
        del summary["seconds"], summary["warehouse"]
    # The report is drawn from the DuckDB file, so it is written beside it: locally, also for an S3 warehouse.
    assert remote_summary.pop("report") == str(fs.local_dir("s3://lake/wh") / "reports" / f"{DATE}.html")
    local_summary.pop("report")
    assert remote_summary == local_summary and remote_summary["quarantined_by_reason"] == {"empty_file": 1}
    wh = fs.location("s3://lake/wh")
    quarantined = (wh / "quarantine" / "inputs" / f"date={DATE}" / "inputs.jsonl").read_text().splitlines()
    assert [json.loads(q)["path"] for q in quarantined] == ["s3://lake/inbox/empty.txt"]
    assert json.loads((wh / "runs" / f"date={DATE}" / "summary.json").read_text())["counts_balance"]
    assert (wh / "quality" / f"date={DATE}" / "events.json").is_file()
    manifest_key = f"parquet/_manifests/date={DATE}/manifest.json"
    assert (wh / manifest_key).read_bytes() == (local_wh / manifest_key).read_bytes()
    assert not Path("s3:").exists()  # the URL never became a local directory


def test_verify_reads_the_manifest_from_s3_and_catches_tampering(s3, runs):
    assert geowire("verify", "--warehouse", "s3://lake/wh", "--date", DATE).exit_code == 0
    key = f"wh/parquet/actors/date={DATE}/part-0.parquet"
    original = s3.get_object(Bucket="lake", Key=key)["Body"].read()
    s3.put_object(Bucket="lake", Key=key, Body=original[:-1] + b"\0")
    try:
        result = geowire("verify", "--warehouse", "s3://lake/wh", "--date", DATE)
        assert result.exit_code == 1 and "actors: s3://lake/wh/parquet/actors" in result.stderr
    finally:
        s3.put_object(Bucket="lake", Key=key, Body=original)


def test_a_second_night_on_s3_sees_the_first(runs):
    """normalize reads earlier partitions from the object store: the same article again is a duplicate."""
    again = geowire("run", "--input", "s3://lake/inbox", "--warehouse", "s3://lake/wh", "--date", NEXT, "--json")
    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["duplicates"] == 1 and summary["articles_published"] == 0 and summary["counts_balance"]
    with duckdb.connect(str(fs.local_dir("s3://lake/wh") / "geowire.duckdb"), read_only=True) as con:
        nights = con.execute("SELECT DISTINCT partition_date::VARCHAR FROM news.articles ORDER BY 1").fetchall()
    assert nights == [(DATE,)]  # the second night published no article rows, and the first is still loaded
    assert fs.location("s3://lake/wh/parquet/_manifests") / f"date={NEXT}" in list(
        fs.location("s3://lake/wh/parquet/_manifests").iterdir()
    )


def test_locations():
    assert fs.location("s3://lake/wh/") == fs.location(Path("s3://lake/wh"))  # a Path-mangled URL is still S3
    assert fs.location("warehouse") == Path("warehouse")
    assert str(fs.location("s3://lake/wh") / "parquet" / "events") == "s3://lake/wh/parquet/events"
    with pytest.raises(ValueError, match="object-store URL"):
        fs.ObjectPath("gs://lake/wh")
