"""Web sources against a real HTTP server on 127.0.0.1: fetching, faults, politeness, state, sources files.

No spaCy here: these tests stop at raw and quarantine records (`ingest_feed`, the ingest stage); the whole
pipeline on web sources is in test_web_pipeline.py.
"""

from __future__ import annotations

import gzip
import time
from collections import Counter

import pytest

from pipeline import stages, storage
from pipeline.ingest import state
from pipeline.ingest.fetch import Fetcher, FetchError
from pipeline.ingest.sources import NetworkSettings, Source, SourcesConfig, SourcesError, load_sources
from pipeline.ingest.web import ingest_feed
from pipeline.records import RawRecord
from tests.conftest import REPO
from tests.web_server import LAST_MODIFIED, STORIES, Route, WebServer, article_html, rss, syndicated

DATE = "2026-01-07"
# Short timeouts and backoff so the faults cost little time; 127.0.0.1 is the test server, nothing else is allowed.
NETWORK = NetworkSettings(
    allow_private=("127.0.0.1",),
    timeout_s=0.5,
    max_request_seconds=3,
    max_response_bytes=256 * 1024,
    retries=1,
    backoff_s=0.01,
    max_retry_wait_s=0.2,
    per_host_delay_s=0.0,
    per_host_concurrency=4,
    workers=4,
    user_agent="geowire-test/0.1 (+http://127.0.0.1/contact)",
)
LATIN1_PAGE = article_html("Café", STORIES["trade"], charset=None).replace("Brussels", "Bruxelles, café, où")


@pytest.fixture
def server():
    web = WebServer()
    web.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    with web.running():
        yield web


def page(story: str, **kwargs) -> Route:
    return Route(article_html(story.title(), STORIES[story]).encode(), **kwargs)


def add_fault_site(web: WebServer) -> dict[str, str]:
    """One feed whose entries link to one page of every kind of fault. Returns the expected reason by URL."""
    routes = {
        "/p/404": Route(b"gone", "text/plain", status=404),
        "/p/500": Route(b"oops", "text/plain", status=500),
        "/p/slow": Route(article_html("Slow", STORIES["aid"]).encode(), sleep=2.0),
        "/p/reset": Route(reset=True),
        "/p/loop-a": Route(status=302, headers={"Location": "/p/loop-b"}),
        "/p/loop-b": Route(status=302, headers={"Location": "/p/loop-a"}),
        "/p/endless": Route(endless=True),
        "/p/huge": Route(b"<html><body>" + b"<p>word</p>" * 40_000 + b"</body></html>"),
        "/p/wrong-charset": Route(LATIN1_PAGE.encode("latin-1"), "text/html; charset=utf-8"),
        "/p/no-charset": Route(LATIN1_PAGE.encode("latin-1"), "text/html"),
        "/p/pdf": Route(b"%PDF-1.7 not a page", "application/pdf"),
        "/p/to-private": Route(status=301, headers={"Location": web.url("/p/ok", host="127.0.0.2")}),
        "/private/secret": page("summit"),
        "/p/nav": Route(b"<html><body><nav><a href='/'>Home</a></nav></body></html>"),
    }
    web.routes.update(routes)
    expected = {
        "/p/404": "http_error",
        "/p/500": "http_error",
        "/p/slow": "timeout",
        "/p/reset": "connection_failed",
        "/p/loop-a": "too_many_redirects",
        "/p/endless": "too_large",
        "/p/huge": "too_large",
        "/p/wrong-charset": "bad_charset",
        "/p/no-charset": "bad_charset",
        "/p/pdf": "not_html",
        "/p/to-private": "private_address",
        "/private/secret": "robots_disallowed",
        "/p/nav": "no_main_text",
    }
    links = {path: web.url(path) for path in expected}
    links["/direct-private"] = web.url("/p/ok", host="127.0.0.2")
    expected["/direct-private"] = "private_address"
    web.routes["/faults.xml"] = Route(
        rss("faults", [{"title": f"Fault {p}", "link": url, "guid": url} for p, url in links.items()]).encode(),
        "application/rss+xml",
    )
    return {links[p]: reason for p, reason in expected.items()}


def feed_source(web: WebServer, path: str, name: str = "test-feed", fetch_pages: bool = True) -> Source:
    return Source(name, "feed", url=web.url(path), fetch_pages=fetch_pages)


def test_every_page_fault_is_quarantined_with_its_reason(server, tmp_path):
    expected = add_fault_site(server)
    started = time.monotonic()
    result = ingest_feed(feed_source(server, "/faults.xml"), NETWORK, tmp_path, DATE)
    elapsed = time.monotonic() - started
    assert result.records == []
    got = {q.path: str(q.reason) for q in result.quarantined}
    assert got == expected
    for q in result.quarantined:
        assert q.detail and (q.payload is not None or q.payload_pointer)
    assert result.stats["entries_new"] == len(expected) == len(result.quarantined)
    # The unreachable 127.0.0.2 was never connected to; the server saw no request for /p/ok.
    assert server.requests_for("/p/ok") == []
    assert server.routes["/p/500"].served == 2  # retried once
    assert elapsed < 20, elapsed
    # Failures that may pass are retried the next night: not recorded as seen, and the feed's validators not kept.
    transient = {u for u, r in expected.items() if r in ("timeout", "connection_failed") or u.endswith("/p/500")}
    assert result.stats["retry_next_run"] == len(transient)
    assert all(f"url:{u}" not in result.pending["entry_keys"] for u in transient)
    assert result.pending["etag"] is None


def test_feed_faults_fail_alone_with_their_reason(server, tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY a{i} "{(f"&a{i - 1};" if i > 1 else "&a;") * 10}">' for i in range(1, 10))
        + ']><rss version="2.0"><channel><title>&a9;</title></channel></rss>'
    )
    latin1_feed = rss("Café", [{"title": "Ça va", "link": server.url("/x"), "guid": "x"}]).encode("latin-1")
    server.routes.update(
        {
            "/gone.xml": Route(b"no", "text/plain", status=404),
            "/broken.xml": Route(b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</ti', "text/xml"),
            "/bomb.xml": Route(bomb.encode(), "application/rss+xml"),
            "/latin1.xml": Route(latin1_feed, "application/rss+xml; charset=utf-8"),
            "/page.xml": Route(b"<html><body><p>not a feed</p></body></html>", "text/html"),
            "/moved.xml": Route(status=302, headers={"Location": server.url("/feed.xml", host="127.0.0.2")}),
            "/zipped.xml": Route(b"\x1f\x8b not gzip", "application/rss+xml", headers={"Content-Encoding": "gzip"}),
        }
    )
    expected = {
        "/gone.xml": "http_error",
        "/broken.xml": "malformed_feed",
        "/bomb.xml": "xml_entities",
        "/latin1.xml": "bad_charset",
        "/page.xml": "malformed_feed",
        "/moved.xml": "private_address",
        "/zipped.xml": "unreadable",
    }
    for path, reason in expected.items():
        started = time.monotonic()
        result = ingest_feed(feed_source(server, path), NETWORK, tmp_path, DATE)
        assert [str(q.reason) for q in result.quarantined] == [reason], (path, result.quarantined)
        assert result.records == [] and result.pending is None
        assert time.monotonic() - started < 3, path
    private = ingest_feed(Source("p", "feed", url=server.url("/feed.xml", host="127.0.0.2")), NETWORK, tmp_path, DATE)
    [refused] = private.quarantined
    assert refused.reason == "private_address" and "127.0.0.2 is loopback" in refused.detail
    assert server.requests_for("/feed.xml") == []


def test_pages_are_extracted_and_a_failed_page_falls_back_to_the_summary(server, tmp_path):
    server.routes.update(
        {
            "/world.xml": Route(
                rss(
                    "world",
                    [
                        {"title": "Summit", "link": server.url("/a/summit?utm_source=rss"), "guid": "g-summit",
                         "pubDate": "Tue, 06 Jan 2026 08:00:00 GMT"},
                        {"title": "Ceasefire", "link": server.url("/a/ceasefire"), "guid": "g-ceasefire",
                         "description": "<p>Talks on Sudan <b>resumed</b> in Jeddah.</p>"},
                        {"title": "Busy", "link": server.url("/a/busy"), "guid": "g-busy"},
                        {"title": "UTF-8 without charset", "link": server.url("/a/plain"), "guid": "g-plain"},
                    ],
                ).encode(),
                "application/rss+xml",
                etag='"w1"',
            ),
            "/a/summit": page("summit"),
            "/a/busy": Route(
                article_html("Trade", STORIES["trade"]).encode(),
                status=429,
                fail_first=1,
                headers={"Retry-After": "3600"},  # far longer than max_retry_wait_s: the wait is capped
            ),
            "/a/plain": Route(article_html("Pacific", STORIES["pacific"], charset=None).encode(), "text/html"),
        }
    )
    started = time.monotonic()
    result = ingest_feed(feed_source(server, "/world.xml"), NETWORK, tmp_path, DATE)
    assert time.monotonic() - started < 5
    assert result.quarantined == []
    by_id = {r.source_id: r for r in result.records}
    assert list(by_id) == ["g-summit", "g-ceasefire", "g-busy", "g-plain"]
    summit = by_id["g-summit"]
    assert summit.source == "test-feed" and summit.title == "Summit"
    assert "Ottawa" in summit.text and "Copyright" not in summit.text and "Home" not in summit.text
    assert summit.published == "2026-01-06T08:00:00+00:00"
    assert summit.url == server.url("/a/summit?utm_source=rss")
    assert by_id["g-ceasefire"].text == "Talks on Sudan resumed in Jeddah."  # the summary: the page is a 404
    assert "Brussels" in by_id["g-busy"].text and server.routes["/a/busy"].served == 2
    assert "Port Moresby" in by_id["g-plain"].text
    [fallback] = result.fallbacks
    assert fallback["url"] == server.url("/a/ceasefire") and fallback["reason"] == "http_error"
    assert "404" in fallback["detail"]
    # Politeness: one robots.txt per run, our User-Agent on every request.
    assert len(server.requests_for("/robots.txt")) == 1
    assert {r.headers["user-agent"] for r in server.requests} == {NETWORK.user_agent}
    assert result.pending["etag"] == '"w1"' and "id:g-summit" in result.pending["entry_keys"]


def test_canonical_url_from_the_page(server, tmp_path):
    canonical = "https://news.example.org/world/summit-ottawa"
    server.routes["/c.xml"] = Route(rss("c", [{"title": "S", "link": server.url("/a/s"), "guid": "s"}]).encode())
    server.routes["/a/s"] = Route(article_html("S", STORIES["summit"], canonical=canonical).encode())
    [record] = ingest_feed(feed_source(server, "/c.xml"), NETWORK, tmp_path, DATE).records
    assert record.url == canonical


def test_next_night_sends_conditional_requests_and_takes_only_new_entries(server, tmp_path):
    items = [{"title": s, "link": server.url(f"/a/{s}"), "guid": s} for s in ("summit", "trade")]
    server.routes.update({f"/a/{s}": page(s) for s in STORIES})
    server.routes["/world.xml"] = Route(rss("w", items).encode(), etag='"v1"', last_modified=LAST_MODIFIED)
    source = feed_source(server, "/world.xml")
    first = ingest_feed(source, NETWORK, tmp_path, DATE)
    assert len(first.records) == 2
    # A rerun of the same date before publishing, or after: the same entries again.
    assert [r.source_id for r in ingest_feed(source, NETWORK, tmp_path, DATE).records] == ["summit", "trade"]
    state.commit_pending(tmp_path, DATE, [first.pending])
    assert [r.source_id for r in ingest_feed(source, NETWORK, tmp_path, DATE).records] == ["summit", "trade"]
    # Next night, unchanged feed: a conditional request answered 304, nothing fetched.
    server.requests.clear()
    second = ingest_feed(source, NETWORK, tmp_path, "2026-01-08")
    assert second.records == [] and second.quarantined == [] and second.stats["feed_status"] == "not_modified"
    [feed_request] = server.requests_for("/world.xml")
    assert feed_request.headers["if-none-match"] == '"v1"'
    assert feed_request.headers["if-modified-since"] == LAST_MODIFIED
    state.commit_pending(tmp_path, "2026-01-08", [second.pending])
    # The night after, the feed has two new entries on top of the old ones: only those two are fetched.
    items += [{"title": s, "link": server.url(f"/a/{s}"), "guid": s} for s in ("pacific", "aid")]
    server.routes["/world.xml"] = Route(rss("w", items).encode(), etag='"v2"')
    server.requests.clear()
    third = ingest_feed(source, NETWORK, tmp_path, "2026-01-09")
    assert [r.source_id for r in third.records] == ["pacific", "aid"]
    assert server.requests_for("/world.xml")[0].headers["if-none-match"] == '"v1"'
    assert {r.path for r in server.requests} == {"/world.xml", "/a/pacific", "/a/aid", "/robots.txt"}


def test_per_host_delay_spaces_requests(server, tmp_path):
    server.routes.update({f"/a/{s}": page(s) for s in STORIES})
    items = [{"title": s, "link": server.url(f"/a/{s}"), "guid": s} for s in ("summit", "trade", "aid")]
    server.routes["/d.xml"] = Route(rss("d", items).encode())
    polite = NetworkSettings(**{**NETWORK.to_dict(), "allow_private": ("127.0.0.1",), "per_host_delay_s": 0.3})
    started = time.monotonic()
    assert len(ingest_feed(feed_source(server, "/d.xml"), polite, tmp_path, DATE).records) == 3
    # robots.txt, the feed and three pages, each start 0.3 s after the previous one on this host
    assert time.monotonic() - started >= 4 * 0.3


def test_crawl_delay_and_gzip_bodies(server, tmp_path):
    server.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 1\n", "text/plain")
    gzipped = {"Content-Encoding": "gzip"}
    server.routes["/z"] = Route(gzip.compress(b"<html>" + b"x" * 10_000 + b"</html>"), headers=gzipped)
    server.routes["/bomb"] = Route(gzip.compress(b" " * 5_000_000), headers=gzipped)
    with Fetcher(NETWORK) as fetcher:
        started = time.monotonic()
        assert len(fetcher.get(server.url("/z")).body) == 10_013
        with pytest.raises(FetchError) as bomb:
            fetcher.get(server.url("/bomb"))
        assert bomb.value.reason == "too_large"
        assert time.monotonic() - started >= 1.0  # Crawl-delay 1 between the two page requests


def test_sources_file_is_checked(tmp_path):
    good = tmp_path / "sources.yaml"
    good.write_text(
        "network: {allow_private: [127.0.0.1, 10.0.0.0/8], timeout_s: 5, user_agent: 'ua (+x)'}\n"
        "sources:\n"
        "  - {name: world, type: feed, url: 'http://127.0.0.1:1/rss.xml'}\n"
        "  - {name: dropbox, type: inbox, path: inbox}\n",
        encoding="utf-8",
    )
    config = load_sources(good)
    assert config.network.timeout_s == 5 and config.network.allow_private == ("127.0.0.1", "10.0.0.0/8")
    assert config.sources[0].fetch_pages is True
    assert config.sources[1].paths == (str(tmp_path / "inbox"),)
    assert SourcesConfig.from_dict(config.to_dict()) == config
    bad = {
        "sources: [{name: a, type: feed, url: 'ftp://x'}]": "http(s) `url`",
        "sources: [{name: a, type: rss, url: 'http://x'}]": "`type` must be one of",
        "sources: [{name: a, type: inbox, path: x}, {name: a, type: inbox, path: y}]": "used twice",
        "sources: [{name: 'a b', type: inbox, path: x}]": "`name` must be",
        "network: {allow_private: [not-an-ip]}\nsources: []": "not an address or CIDR",
        "network: {timeout: 3}\nsources: []": "unknown keys ['timeout']",
        "sources: [{name: a, type: feed, url: 'http://x', path: y}]": "unknown keys ['path']",
    }
    for text, message in bad.items():
        good.write_text(text, encoding="utf-8")
        with pytest.raises(SourcesError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            load_sources(good)


def test_ingest_stage_merges_sources_in_order_and_counts_add_up(server, tmp_path):
    expected = add_fault_site(server)
    server.routes.update({f"/a/{s}": page(s) for s in STORIES})
    server.routes["/ok.xml"] = Route(
        rss("ok", [{"title": s, "link": server.url(f"/a/{s}"), "guid": s} for s in ("summit", "aid")]).encode()
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "note.txt").write_text(" ".join(STORIES["election"]), encoding="utf-8")
    (inbox / "broken.json").write_text("{", encoding="utf-8")
    sources = SourcesConfig(
        NETWORK,
        (
            feed_source(server, "/faults.xml", "faults"),
            feed_source(server, "/missing.xml", "missing"),
            feed_source(server, "/ok.xml", "ok"),
        ),
    )
    warehouse = tmp_path / "wh"
    counts = stages.ingest([inbox], warehouse, DATE, 1024 * 1024, sources)
    work = storage.work_dir(warehouse, DATE)
    raw = [RawRecord(**r) for r in storage.read_jsonl(work / "raw.jsonl")]
    quarantined = storage.read_jsonl(work / "quarantine_ingest.jsonl")
    assert [(r.source, r.source_id) for r in raw] == [("ok", "summit"), ("ok", "aid"), ("inbox", "note")]
    reasons = Counter(q["reason"] for q in quarantined)
    assert reasons == Counter([*expected.values(), "http_error", "malformed_json"])
    assert counts["inputs_read"] == len(raw) + len(quarantined) == len(expected) + 1 + 2 + 2
    assert [s["name"] for s in counts["sources"]] == ["faults", "missing", "ok", "inbox"]
    assert counts["sources"][1] == {"name": "missing", "type": "feed", "records": 0, "quarantined": 1,
                                    "feed_status": "http_error"}
    # Nothing is recorded as seen until the partition publishes.
    assert state.seen_entries(warehouse, "ok") == {}
    assert (work / "pending_state.json").exists()


def test_a_source_that_breaks_is_quarantined_whole(tmp_path):
    """An unexpected error inside one source (here a state store that cannot be read) does not stop the others."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text(" ".join(STORIES["aid"]), encoding="utf-8")
    warehouse = tmp_path / "wh"
    (warehouse / "state").mkdir(parents=True)
    (warehouse / "state" / "feeds.sqlite").write_text("not a database", encoding="utf-8")
    sources = SourcesConfig(NETWORK, (Source("world", "feed", url="http://127.0.0.1:9/rss.xml"),))
    counts = stages.ingest([inbox], warehouse, DATE, 1024 * 1024, sources)
    [q] = storage.read_jsonl(storage.work_dir(warehouse, DATE) / "quarantine_ingest.jsonl")
    assert q["reason"] == "source_failed" and "DatabaseError" in q["detail"]
    assert counts["records"] == 1 and counts["inputs_read"] == 2


def test_example_sources_file_loads_and_allows_no_private_address():
    config = load_sources(REPO / "sources.example.yaml")
    assert config.network.allow_private == () and config.network.respect_robots
    assert len(config.sources) >= 5 and all(s.type == "feed" and s.url.startswith("https://") for s in config.sources)


def test_near_duplicates_point_to_the_first_copy_and_follow_ups_stay_apart(tmp_path):
    from pipeline.neardup import jaccard, mark_near_duplicates, shingles
    from pipeline.normalize import normalize_record

    def article(source_id: str, paragraphs: list[str]):
        return normalize_record(RawRecord(source_id, "test", "\n".join(paragraphs)), language="en")

    follow_up = [*STORIES["summit"][:3], *STORIES["aid"], *STORIES["pacific"][:1]]  # quotes half the story
    articles = [
        article("original", STORIES["summit"]),
        article("copy-1", syndicated("summit", "Outlet One")),
        article("other", STORIES["trade"] * 2),
        article("copy-2", syndicated("summit", "Outlet Two")),
        article("follow-up", follow_up),
    ]
    assert 0.3 < jaccard(shingles(articles[0].text), shingles(articles[4].text)) < 0.6
    marked = {a.source_id: a.duplicate_of for a in mark_near_duplicates(articles, tmp_path, DATE)}
    first = articles[0].article_id
    assert marked == {"original": None, "copy-1": first, "other": None, "copy-2": first, "follow-up": None}
