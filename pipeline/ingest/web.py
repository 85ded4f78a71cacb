"""Feeds (RSS 0.9x/1.0/2.0, Atom) and their entries' pages -> raw records or quarantine records.

One feed source, one run:
1. the feed is fetched with the ETag/Last-Modified of the previous partition (`state.py`); 304 means nothing new;
2. it is parsed by feedparser from the bytes fetched here (feedparser never fetches anything itself); a feed with
   entity declarations, that is not well-formed XML, or whose bytes do not match its charset is quarantined whole;
3. each entry not taken in by an earlier partition becomes one record: the main text, title, canonical URL and date
   of its page (trafilatura), or, when the page cannot be used, the entry's own summary, listed as a fallback
   with the page's URL and reason; an entry with neither is quarantined with the page's reason.

Every new entry ends as exactly one record or one quarantine record; a feed that cannot be read is one quarantine
record. What was taken in is returned as pending state, recorded when the partition publishes.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline import fs
from pipeline.ingest import state
from pipeline.ingest.fetch import Fetcher, FetchError, Response
from pipeline.ingest.inbox import MIN_HTML_WORDS
from pipeline.ingest.sources import NetworkSettings, Source
from pipeline.normalize import canonical_url, stable_hash
from pipeline.records import QuarantinedInput, RawRecord, Reason, quarantine

HTML_TYPES = ("text/html", "application/xhtml+xml")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


@dataclass
class FeedResult:
    records: list[RawRecord] = field(default_factory=list)
    quarantined: list[QuarantinedInput] = field(default_factory=list)
    fallbacks: list[dict] = field(default_factory=list)  # entries published from their summary, with the page fault
    pending: dict | None = None  # what to record in the state store once the partition publishes
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    position: int
    keys: tuple[str, ...]
    source_id: str
    link: str | None
    title: str | None
    published: str | None
    summary: str | None


def ingest_feed(source: Source, network: NetworkSettings, warehouse: str | fs.Location, date: str) -> FeedResult:
    assert source.url is not None
    result = FeedResult()
    etag, last_modified = state.validators(warehouse, source.name, source.url, date)
    conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
    with Fetcher(network) as fetcher:
        try:
            response = fetcher.get(source.url, conditional)
        except FetchError as exc:
            detail = f"feed {source.name}: {_detail_at(exc, source.url)}"
            result.quarantined.append(quarantine(source.url, None, exc.reason, detail, exc.payload))
            result.stats = {"feed_status": str(exc.reason)}
            return result
        pending = {"source": source.name, "url": source.url, "etag": etag, "last_modified": last_modified}
        if response.status == 304:
            result.pending = {**pending, "entry_keys": []}  # the validators carry over to this partition
            result.stats = {"feed_status": "not_modified", "entries_in_feed": 0, "entries_new": 0}
            return result
        entries_or_fault = _parse_feed(response, source)
        if isinstance(entries_or_fault, QuarantinedInput):
            result.quarantined.append(entries_or_fault)
            result.stats = {"feed_status": str(entries_or_fault.reason)}
            return result
        seen = state.seen_entries(warehouse, source.name)
        new: list[_Entry] = []
        taken: set[str] = set()
        for entry in entries_or_fault:
            earlier = {seen[k] for k in entry.keys if k in seen}
            if (earlier and earlier != {date}) or taken & set(entry.keys):
                continue  # taken in by another partition, or repeated within the feed
            taken.update(entry.keys)
            new.append(entry)
        if source.fetch_pages and new:
            with ThreadPoolExecutor(network.workers, thread_name_prefix=f"fetch-{source.name}") as pool:
                outcomes = list(pool.map(lambda e: _from_page(fetcher, e, source), new))
        else:
            outcomes = [_from_summary(e, source, None) for e in new]
    retry_later: list[_Entry] = []
    for entry, (item, page_fault) in zip(new, outcomes, strict=True):
        if isinstance(item, RawRecord):
            result.records.append(item)
            if page_fault is not None:
                result.fallbacks.append(page_fault)
        else:
            result.quarantined.append(item)
            if page_fault is not None and page_fault["transient"]:
                retry_later.append(entry)
    # Entries whose page failed for a reason that may pass are not recorded as seen, and the feed's validators are
    # not advanced, so the next night fetches the whole feed and tries them again.
    keep = {k for e in new if e not in retry_later for k in e.keys}
    result.pending = {**pending, "entry_keys": sorted(keep)}
    if not retry_later:
        result.pending.update(etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))
    result.stats = {
        "feed_status": "fetched",
        "entries_in_feed": len(entries_or_fault),
        "entries_new": len(new),
        "summary_fallbacks": len(result.fallbacks),
        "retry_next_run": len(retry_later),
    }
    return result


def _parse_feed(response: Response, source: Source) -> list[_Entry] | QuarantinedInput:
    import feedparser

    url, body = response.url, response.body
    head = f"feed {source.name}"
    if _ENTITY_DECLARATION.search(body[:65536]):
        return quarantine(url, None, Reason.XML_ENTITIES, f"{head}: declares XML entities (refused unparsed)", body)
    headers = {"content-type": response.headers.get("content-type", "application/xml"), "content-location": url}
    # A stream, not bytes: given bytes, feedparser would try them as a file name first.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    problem = parsed.get("bozo_exception")
    if isinstance(problem, (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)):
        return quarantine(url, None, Reason.BAD_CHARSET, f"{head}: {problem}", body)
    if problem is not None and not isinstance(problem, feedparser.NonXMLContentType):
        return quarantine(url, None, Reason.MALFORMED_FEED, f"{head}: not well-formed XML: {problem}", body)
    if not parsed.get("version") and not parsed.entries:
        return quarantine(url, None, Reason.MALFORMED_FEED, f"{head}: not an RSS or Atom feed", body)
    return [_entry(position, e, url) for position, e in enumerate(parsed.entries, start=1)]


def _entry(position: int, e, feed_url: str) -> _Entry:
    link = e.get("link") or None
    entry_id = e.get("id") or None
    title = e.get("title") or None
    source_id = entry_id or link or f"{feed_url}#{stable_hash(title or '', e.get('summary') or '')}"
    id_key = f"id:{entry_id}" if entry_id else None
    keys = tuple(k for k in (id_key, f"url:{canonical_url(link)}" if link else None) if k)
    when = e.get("published_parsed") or e.get("updated_parsed")
    published = (
        datetime(when[0], when[1], when[2], when[3], when[4], when[5], tzinfo=UTC).isoformat()
        if when
        else (e.get("published") or e.get("updated"))
    )
    content = e.get("content") or []
    summary_html = (content[0].get("value") if content else None) or e.get("summary")
    return _Entry(
        position=position,
        keys=keys or (f"id:{source_id}",),
        source_id=source_id,
        link=link,
        title=title,
        published=published,
        summary=html_to_text(summary_html) if summary_html else None,
    )


def _from_page(fetcher: Fetcher, entry: _Entry, source: Source) -> tuple[RawRecord | QuarantinedInput, dict | None]:
    import trafilatura

    if not entry.link:
        return _from_summary(entry, source, (Reason.MISSING_TEXT, "entry has no link", False, None, None))
    try:
        response = fetcher.get(entry.link)
        html = _decode_page(response)
    except FetchError as exc:
        fault = (exc.reason, _detail_at(exc, entry.link), exc.transient, entry.link, exc.payload)
        return _from_summary(entry, source, fault)
    doc = trafilatura.bare_extraction(
        html, url=response.url, with_metadata=True, include_comments=False, include_tables=False
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or len(text.split()) < MIN_HTML_WORDS:
        fault = (Reason.NO_MAIN_TEXT, "no main text found in the page", False, response.url, response.body)
        return _from_summary(entry, source, fault)
    canonical = getattr(doc, "url", None)
    return RawRecord(
        source_id=entry.source_id,
        source=source.name,
        text=text,
        title=entry.title or getattr(doc, "title", None),
        published=entry.published or getattr(doc, "date", None),
        url=canonical if canonical and re.match(r"^https?://", canonical) else response.url,
        path=entry.link,
    ), None


def _detail_at(exc: FetchError, requested: str) -> str:
    """The error's detail, naming the URL that failed when a redirect led away from the one requested."""
    return exc.detail if exc.url == requested else f"{exc.detail} (at {exc.url})"


def _decode_page(response: Response) -> str:
    """The page as text, from its declared charset (header, else meta), else UTF-8; refused when bytes disagree."""
    content_type = response.content_type
    sniffed_html = response.body[:1024].lstrip().lower().startswith((b"<!doctype html", b"<html"))
    if content_type not in HTML_TYPES and not (not content_type and sniffed_html):
        detail = f"content type {content_type or '(none)'} is not HTML"
        raise FetchError(Reason.NOT_HTML, detail, response.url, response.body[:1024])
    meta = _META_CHARSET.search(response.body[:4096])
    declared = response.charset or (meta.group(1).decode("ascii").lower() if meta else None)
    try:
        return response.body.decode(declared or "utf-8")
    except LookupError:
        raise FetchError(Reason.BAD_CHARSET, f"unknown charset {declared!r}", response.url, response.body) from None
    except UnicodeDecodeError as exc:
        said = f"declared charset {declared}" if declared else "no charset declared and the body is not UTF-8"
        raise FetchError(Reason.BAD_CHARSET, f"{said}: {exc}", response.url, response.body) from None


def _from_summary(
    entry: _Entry, source: Source, fault: tuple[Reason, str, bool, str | None, bytes | None] | None
) -> tuple[RawRecord | QuarantinedInput, dict | None]:
    """The entry's own summary as the article; `fault` says why the page was not used (None: by configuration)."""
    where = fault[3] if fault and fault[3] else entry.link or f"{source.url}#entry-{entry.position}"
    page_fault = None
    if fault is not None:
        reason, detail, transient, _, _ = fault
        page_fault = {
            "source": source.name,
            "source_id": entry.source_id,
            "url": where,
            "reason": str(reason),
            "detail": detail,
            "transient": transient,
        }
    if not entry.summary or not entry.summary.strip():
        if fault is None:
            return quarantine(where, None, Reason.MISSING_TEXT, f"feed {source.name}: entry has no summary", None), None
        reason, detail, _, _, payload = fault
        detail = f"{detail}; the entry has no summary to fall back on"
        return quarantine(where, None, reason, detail, payload), page_fault
    record = RawRecord(
        source_id=entry.source_id,
        source=source.name,
        text=entry.summary,
        title=entry.title,
        published=entry.published,
        url=entry.link,
        path=where,
    )
    return record, page_fault


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment (a feed summary), one line per block element."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several types on junk; a summary that is not HTML is its own text
        return fragment.strip()
    for element in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        element.tail = "\n" + (element.tail or "")
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())
