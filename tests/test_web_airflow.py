"""The DAG on a sources file (GEOWIRE_SOURCES): one real `airflow dags test` run whose ingest maps over three
sources (a good feed on the local server, a feed refused as private, an inbox); the refused one fails alone."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO
from tests.test_airflow import CONF, DATE, _airflow, airflow_env
from tests.test_web_ingest import NETWORK, page
from tests.web_server import Route, WebServer, rss

pytestmark = pytest.mark.slow


def test_ingest_maps_over_sources_and_a_failing_source_fails_alone(tmp_path):
    web = WebServer()
    web.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
    web.routes.update({f"/a/{s}": page(s) for s in ("summit", "trade")})
    items = [{"title": s, "link": web.url(f"/a/{s}"), "guid": s} for s in ("summit", "trade")]
    web.routes["/rss.xml"] = Route(rss("news", items).encode(), "application/rss+xml")
    inbox = tmp_path / "inbox"
    shutil.copytree(REPO / "pipeline" / "sample_inbox", inbox)
    sources = tmp_path / "sources.yaml"
    network = {**NETWORK.to_dict(), "allow_private": ["127.0.0.1"]}
    feeds = [
        {"name": "news", "type": "feed", "url": web.url("/rss.xml")},
        {"name": "refused", "type": "feed", "url": web.url("/rss.xml", host="127.0.0.2")},
        {"name": "dropbox", "type": "inbox", "path": str(inbox)},
    ]
    sources.write_text(json.dumps({"network": network, "sources": feeds}), encoding="utf-8")
    warehouse = tmp_path / "warehouse"
    env = airflow_env(tmp_path / "home", warehouse, GEOWIRE_SOURCES=str(sources))
    migrate = _airflow(["db", "migrate"], env)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    with web.running():
        result = _airflow(["dags", "test", "news_nightly", "-c", CONF], env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    [finished] = [line for line in log.splitlines() if "DagRun Finished" in line]
    assert "state=success" in finished
    assert log.count("end task task_id=ingest_source ") == 3, log[-5000:]
    summary = json.loads((warehouse / "runs" / f"date={DATE}" / "summary.json").read_text())
    by_source = {s["name"]: s for s in summary["sources"]}
    assert by_source["news"]["records"] == 2 and by_source["dropbox"]["records"] == 6
    assert by_source["refused"]["quarantined"] == 1 and by_source["refused"]["feed_status"] == "private_address"
    assert summary["quarantined_by_reason"] == {"private_address": 1}
    assert summary["counts_balance"] and summary["inputs_read"] == 9
