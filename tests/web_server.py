"""A real HTTP server on 127.0.0.1 for the web-ingestion tests: feeds, pages and every kind of misbehaviour.

Routes map a path to a `Route`: a body with a content type, optional ETag/Last-Modified (answered 304 to a
matching conditional request), or a fault (`status`, `sleep`, `reset`, `endless`, `redirect`). Every request is
logged with its headers, so tests can see what was asked for and how.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = formatdate(1767225600, usegmt=True)  # 2026-01-01


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0  # before answering
    reset: bool = False  # close the connection with a TCP reset instead of answering
    endless: bool = False  # stream the body forever (until the client hangs up or 20 s pass)
    fail_first: int = 0  # answer `status` this many times, then 200 with the body
    served: int = 0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class WebServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    @contextlib.contextmanager
    def running(self) -> Iterator[WebServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            path = h.path.split("?")[0]  # routes and the request log ignore query strings
            self.requests.append(Request(path, {k.lower(): v for k, v in h.headers.items()}))
            route = self.routes.get(path)
            if route is not None:
                route.served += 1
        if route is None:
            route = Route(b"not found", "text/plain", status=404)
        if route.sleep:
            time.sleep(route.sleep)
        if route.reset:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        status = route.status
        if route.fail_first:
            status = route.status if route.served <= route.fail_first else 200
        if status == 200 and self._not_modified(h, route):
            h.send_response(304)
            h.end_headers()
            return
        h.send_response(status)
        h.send_header("Content-Type", route.content_type)
        for name, value in (("ETag", route.etag), ("Last-Modified", route.last_modified), *route.headers.items()):
            if value:
                h.send_header(name, value)
        if route.endless:
            h.end_headers()
            deadline = time.monotonic() + 20
            with contextlib.suppress(OSError):
                while time.monotonic() < deadline:
                    h.wfile.write(b"<p>more</p>" * 1000)
            return
        h.send_header("Content-Length", str(len(route.body)))
        h.end_headers()
        with contextlib.suppress(OSError):
            h.wfile.write(route.body)

    @staticmethod
    def _not_modified(h: BaseHTTPRequestHandler, route: Route) -> bool:
        if route.etag and h.headers.get("If-None-Match") == route.etag:
            return True
        return bool(route.last_modified and h.headers.get("If-Modified-Since") == route.last_modified)


def article_html(title: str, paragraphs: list[str], charset: str | None = "utf-8", canonical: str | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}</title>{link}"
        '<meta property="article:published_time" content="2026-01-06T09:00:00Z"></head>'
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright 2026 Example Outlet. All rights reserved.</footer></body></html>"
    )


def rss(title: str, items: list[dict]) -> str:
    """RSS 2.0; each item has link, guid and optionally title, description and pubDate."""
    parts = []
    for item in items:
        tags = ("title", "link", "description", "pubDate")
        fields = "".join(f"<{tag}>{item[tag]}</{tag}>" for tag in tags if item.get(tag))
        if item.get("guid"):
            permalink = "true" if item["guid"].startswith("http") else "false"
            fields += f'<guid isPermaLink="{permalink}">{item["guid"]}</guid>'
        parts.append(f"<item>{fields}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://127.0.0.1/</link><description>test feed</description>"
        f"{''.join(parts)}</channel></rss>"
    )


def atom(title: str, entries: list[dict]) -> str:
    """Atom 1.0; each entry has id, link, title, updated and content (HTML, escaped here)."""
    from html import escape

    parts = "".join(
        f"<entry><id>{e['id']}</id><title>{e['title']}</title><link href=\"{e['link']}\"/>"
        f"<updated>{e['updated']}</updated><content type=\"html\">{escape(e['content'])}</content></entry>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test:{title}</id><updated>2026-01-06T00:00:00Z</updated>{parts}</feed>"
    )


STORIES = {
    "summit": [
        "Leaders of the Group of Seven met in Ottawa on Tuesday to discuss support for Ukraine and new sanctions "
        "against Russia, officials said after the first session of the two-day summit.",
        "The Canadian Prime Minister told reporters that the allies had agreed to extend financial assistance "
        "through next year and to coordinate export controls on dual-use goods more closely.",
        "Japan pledged an additional four billion dollars in budget support, while Germany said it would deliver "
        "two more air defence systems before the end of the winter.",
        "France and Britain presented a plan for a reassurance force that would deploy only after a ceasefire, and "
        "several leaders said a final decision would depend on guarantees from Washington.",
        "The summit is expected to end on Wednesday with a joint statement on energy security, critical minerals "
        "and the reconstruction of power plants damaged by missile and drone strikes.",
    ],
    "ceasefire": [
        "Negotiators from Sudan's warring factions resumed indirect talks in Jeddah on Monday under Saudi and "
        "American mediation, according to diplomats familiar with the process.",
        "The talks aim at a humanitarian truce that would open corridors for aid convoys into Darfur and Khartoum, "
        "where the United Nations says millions of people face acute hunger.",
        "Previous rounds collapsed after both sides accused each other of violating short ceasefires, and aid "
        "agencies warned that the rainy season would soon cut off several roads.",
    ],
    "trade": [
        "The European Union and India concluded a round of free trade negotiations in Brussels on Wednesday, "
        "with both sides reporting progress on tariffs for machinery, wine and pharmaceuticals.",
        "Officials said disagreements remained over carbon border charges and public procurement, and that a "
        "further round was planned in New Delhi before the summer recess.",
        "Business groups welcomed the momentum but urged negotiators to settle the rules of origin for car parts, "
        "which they said mattered more than headline tariff cuts.",
    ],
    "pacific": [
        "Australia and Papua New Guinea signed a security treaty in Port Moresby on Thursday that commits both "
        "countries to consult each other in the event of an armed attack.",
        "The agreement also provides for Australian training of police officers and funding for border patrol "
        "vessels, and it follows a similar pact between Canberra and Tuvalu.",
        "China's foreign ministry said regional countries should not be forced to choose sides, while opposition "
        "lawmakers in Port Moresby demanded that the text be debated in parliament.",
    ],
    "election": [
        "Voters in Chile went to the polls on Sunday in a presidential runoff dominated by concerns about crime, "
        "immigration and the slow recovery of wages after years of high inflation.",
        "Electoral officials reported a high turnout in the first hours, helped by compulsory voting rules that "
        "were reintroduced three years ago after a constitutional referendum.",
        "Both candidates promised to respect the result, and observers from the Organization of American States "
        "said the campaign had been tense but largely peaceful.",
    ],
    "aid": [
        "The World Food Programme said on Friday that it had resumed deliveries to northern Gaza after a pause of "
        "two weeks caused by damaged roads and security incidents at crossings.",
        "A convoy of forty trucks carried flour, medical supplies and fuel for hospital generators, and the agency "
        "said it hoped to run daily convoys if the crossings remained open.",
        "Israeli officials said inspections had been accelerated, while aid groups called for more crossings and "
        "for permission to bring in water purification equipment.",
    ],
}


def syndicated(story: str, outlet: str) -> list[str]:
    """The same wire story as another outlet runs it: its own dateline and tail around the wire text."""
    return [f"({outlet}) -", *STORIES[story], f"Reporting by wire staff; additional reporting by {outlet} editors."]
