"""`geowire run --sources` end to end against a real HTTP server on 127.0.0.1: feeds and pages in, Parquet out,
night after night."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import parquet_hashes
from tests.test_cli import geowire_in_process
from tests.test_web_ingest import NETWORK, add_fault_site, page
from tests.web_server import LAST_MODIFIED, STORIES, Route, WebServer, article_html, atom, rss, syndicated

pytestmark = pytest.mark.slow
NIGHTS = ("2026-01-07", "2026-01-08", "2026-01-09")


def write_sources(path: Path, feeds: dict[str, str], inbox: Path | None = None, no_pages: tuple[str, ...] = ()) -> Path:
    network = {**NETWORK.to_dict(), "allow_private": ["127.0.0.1"]}
    sources: list[dict] = [
        {"name": n, "type": "feed", "url": u, "fetch_pages": n not in no_pages} for n, u in feeds.items()
    ]
    if inbox is not None:
        sources.append({"name": "dropbox", "type": "inbox", "path": str(inbox)})
    path.write_text(json.dumps({"network": network, "sources": sources}), encoding="utf-8")  # JSON is YAML too
    return path


def run(sources: Path, warehouse: Path, date: str) -> dict:
    args = ("run", "--sources", str(sources), "--warehouse", str(warehouse), "--date", date, "--json")
    result = geowire_in_process(*args)
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def articles(warehouse: Path, date: str) -> list[dict]:
    return pq.read_table(warehouse / "parquet" / "articles" / f"date={date}" / "part-0.parquet").to_pylist()


def entry(web: WebServer, path: str, guid: str, **extra) -> dict:
    return {"title": guid.title(), "link": web.url(path), "guid": guid, **extra}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Three nights of three feeds: world (RSS, pages fetched), wire (Atom, entries' own content), faults."""
    root = tmp_path_factory.mktemp("web")
    web = WebServer()
    web.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    expected_faults = add_fault_site(web)
    web.routes.update({f"/a/{s}": page(s) for s in STORIES})
    web.routes["/b/summit"] = Route(article_html("G7 summit", syndicated("summit", "Other Outlet")).encode())
    world_items = [
        entry(web, "/a/summit", "summit", pubDate="Tue, 06 Jan 2026 08:00:00 GMT"),
        entry(web, "/a/trade", "trade"),
        entry(web, "/b/summit", "summit-copy"),  # the same wire story at another outlet: a near-duplicate
        entry(web, "/a/missing", "missing", description="<p>Talks on Sudan resumed in Jeddah on Monday.</p>"),
    ]
    web.routes["/world.xml"] = Route(rss("world", world_items).encode(), "application/rss+xml", etag='"w1"')
    wire_entries = [
        {"id": "urn:wire:1", "title": "Pacific", "link": web.url("/wire/1"), "updated": "2026-01-06T10:00:00Z",
         "content": "".join(f"<p>{p}</p>" for p in STORIES["pacific"])},
        {"id": "urn:wire:2", "title": "Election", "link": web.url("/wire/2"), "updated": "2026-01-06T11:00:00Z",
         "content": "".join(f"<p>{p}</p>" for p in STORIES["election"])},
    ]
    web.routes["/wire.atom"] = Route(
        atom("wire", wire_entries).encode(), "application/atom+xml", last_modified=LAST_MODIFIED
    )
    sources = root / "sources.yaml"
    feeds = {n: web.url(p) for n, p in (("world", "/world.xml"), ("wire", "/wire.atom"), ("faults", "/faults.xml"))}
    write_sources(sources, feeds, no_pages=("wire",))
    warehouse = root / "warehouse"
    with web.running():
        first = run(sources, warehouse, NIGHTS[0])
        hashes = parquet_hashes(warehouse)
        rerun = run(sources, warehouse, NIGHTS[0])
        rerun_hashes = parquet_hashes(warehouse)
        web.requests.clear()
        second = run(sources, warehouse, NIGHTS[1])
        second_requests = list(web.requests)
        # Night three: another outlet's copy of night one's summit story appears in the world feed.
        web.routes["/c/summit"] = Route(article_html("Summit", syndicated("summit", "Third Outlet")).encode())
        world_items.append(entry(web, "/c/summit", "summit-third"))
        web.routes["/world.xml"] = Route(rss("world", world_items).encode(), "application/rss+xml", etag='"w2"')
        third = run(sources, warehouse, NIGHTS[2])
    return {
        "warehouse": warehouse,
        "web": web,
        "faults": expected_faults,
        "runs": (first, rerun, second, third),
        "hashes": (hashes, rerun_hashes),
        "second_requests": second_requests,
    }


def test_first_night_publishes_everything_and_counts_add_up(nights):
    first = nights["runs"][0]
    warehouse = nights["warehouse"]
    rows = articles(warehouse, NIGHTS[0])
    by_source = Counter(r["source"] for r in rows)
    assert by_source == {"world": 4, "wire": 2}
    assert first["inputs_read"] == 6 + len(nights["faults"])
    assert first["articles_published"] == 5 and first["duplicates"] == 1
    assert first["quarantined"] == len(nights["faults"])
    assert first["counts_balance"]
    summit = next(r for r in rows if r["source_id"] == "summit")
    copy = next(r for r in rows if r["source_id"] == "summit-copy")
    assert copy["duplicate_of"] == summit["article_id"] and summit["duplicate_of"] is None
    assert copy["content_hash"] != summit["content_hash"]  # not an exact copy: a near-duplicate
    assert summit["published_at"].isoformat() == "2026-01-06T08:00:00+00:00"


def test_every_fault_is_in_the_input_quarantine_with_url_and_reason(nights):
    quarantine_dir = nights["warehouse"] / "quarantine" / "inputs" / f"date={NIGHTS[0]}"
    records = [json.loads(line) for line in (quarantine_dir / "inputs.jsonl").read_text().splitlines()]
    assert {r["path"]: r["reason"] for r in records} == nights["faults"]
    [fallback] = [json.loads(line) for line in (quarantine_dir / "summary_fallbacks.jsonl").read_text().splitlines()]
    assert fallback["url"].endswith("/a/missing") and fallback["reason"] == "http_error"
    assert nights["runs"][0]["summary_fallbacks"] == 1


def test_rerun_of_a_night_is_byte_identical(nights):
    first, rerun = nights["hashes"]
    assert len(first) == 5 and rerun == first
    assert nights["runs"][1]["articles_published"] == nights["runs"][0]["articles_published"]


def test_second_night_fetches_nothing_new_with_conditional_requests(nights):
    second = nights["runs"][2]
    requests = nights["second_requests"]
    [world] = [r for r in requests if r.path == "/world.xml"]
    [wire] = [r for r in requests if r.path == "/wire.atom"]
    assert world.headers["if-none-match"] == '"w1"'
    assert wire.headers["if-modified-since"] == LAST_MODIFIED
    # No page of the world feed was asked for again: both feeds answered 304.
    assert not any(r.path.startswith(("/a/", "/b/")) for r in requests)
    assert second["articles_published"] == 0 and second["counts_balance"]
    assert {s["name"]: s.get("feed_status") for s in second["sources"]}["world"] == "not_modified"
    # The faults feed's transient failures (500 after retries, timeout, reset) are tried again; nothing else is.
    retried = {r["path"] for r in _quarantine(nights["warehouse"], NIGHTS[1])}
    assert retried == {u for u, reason in nights["faults"].items()
                       if reason in ("timeout", "connection_failed") or u.endswith("/p/500")}
    assert second["quarantined"] == len(retried) == second["inputs_read"]


def test_a_syndicated_copy_on_a_later_night_points_to_the_first_article(nights):
    third = nights["runs"][3]
    [copy] = articles(nights["warehouse"], NIGHTS[2])
    summit = next(r for r in articles(nights["warehouse"], NIGHTS[0]) if r["source_id"] == "summit")
    assert copy["source_id"] == "summit-third" and copy["duplicate_of"] == summit["article_id"]
    assert third["duplicates"] == 1 and third["articles_published"] == 0


def _quarantine(warehouse: Path, date: str) -> list[dict]:
    path = warehouse / "quarantine" / "inputs" / f"date={date}" / "inputs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_new_user_one_feed_and_one_inbox(tmp_path):
    """As the issue asks: a local feed and an inbox give one partition with both; the next night, two new feed
    entries are published and nothing else."""
    web = WebServer()
    web.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
    web.routes.update({f"/a/{s}": page(s) for s in STORIES})
    items = [entry(web, "/a/summit", "summit"), entry(web, "/a/trade", "trade")]
    web.routes["/rss.xml"] = Route(rss("news", items).encode(), "application/rss+xml", etag='"1"')
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(Path(__file__).parent.parent / "pipeline" / "sample_inbox" / "sample_article.txt", inbox)
    sources = write_sources(tmp_path / "sources.yaml", {"news": web.url("/rss.xml")}, inbox)
    warehouse = tmp_path / "warehouse"
    with web.running():
        first = run(sources, warehouse, NIGHTS[0])
        items += [entry(web, "/a/pacific", "pacific"), entry(web, "/a/aid", "aid")]
        web.routes["/rss.xml"] = Route(rss("news", items).encode(), "application/rss+xml", etag='"2"')
        second = run(sources, warehouse, NIGHTS[1])
    partitions = sorted(p.name for p in (warehouse / "parquet" / "articles").iterdir())
    assert partitions == [f"date={NIGHTS[0]}", f"date={NIGHTS[1]}"]
    assert Counter(r["source"] for r in articles(warehouse, NIGHTS[0])) == {"news": 2, "dropbox": 1}
    assert first["articles_published"] == 3 and first["counts_balance"]
    assert sorted(r["source_id"] for r in articles(warehouse, NIGHTS[1])) == ["aid", "pacific"]
    assert second["articles_published"] == 2 and second["counts_balance"]
    assert second["duplicates"] == 1  # the inbox file read again: the same article, not republished
