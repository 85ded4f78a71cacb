"""HTTP fetching for web sources: safe, bounded and polite.

- Every connection, including each redirect hop and robots.txt, goes through `_GuardedBackend`, which resolves
  the host and connects only to addresses that are public or listed in `network.allow_private`; the check is on
  the address actually connected to, so a name that resolves to a private address is refused too.
- Redirects are followed by hand, up to `max_redirects`, and a loop is refused as soon as a URL repeats.
- Bodies are streamed with a byte cap (after decompression) and a wall-time cap, so an endless body ends.
- 429 and 5xx answers and network errors are retried with exponential backoff, honouring Retry-After up to a cap.
- Per host: at most `per_host_concurrency` requests in flight and `per_host_delay_s` between request starts
  (the robots.txt Crawl-delay when longer); robots.txt is fetched once per origin and obeyed.

Each failure is a `FetchError` carrying the quarantine reason; callers turn it into a quarantine record.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from pipeline.ingest.sources import NetworkSettings
from pipeline.records import Reason

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Reasons worth trying again on another night: the server or the network may be fine then.
TRANSIENT_REASONS = frozenset({Reason.TIMEOUT, Reason.CONNECTION_FAILED})
PAYLOAD_HEAD = 64 * 1024  # bytes of a failed response kept for the quarantine record


class FetchError(Exception):
    def __init__(self, reason: Reason, detail: str, url: str, payload: bytes | None = None, status: int | None = None):
        super().__init__(f"{reason}: {detail} ({url})")
        self.reason = reason
        self.detail = detail
        self.url = url
        self.payload = payload
        self.status = status

    @property
    def transient(self) -> bool:
        server_busy = self.status is not None and (self.status == 429 or self.status >= 500)
        return self.reason in TRANSIENT_REASONS or server_busy


class AddressRefused(Exception):
    """Raised inside the connection pool; `Fetcher` turns it into a `private_address` FetchError."""


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None


class AddressGuard:
    """Which resolved addresses may be connected to: public ones, and those in `allow_private`."""

    def __init__(self, allow_private: tuple[str, ...]):
        self._allowed = [ipaddress.ip_network(a, strict=False) for a in allow_private]

    def check(self, ip: str) -> None:
        address = ipaddress.ip_address(ip.split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        if address.is_global and not address.is_multicast:
            return
        if any(address.version == net.version and address in net for net in self._allowed):
            return
        kind = next(
            (k for k in ("loopback", "private", "link_local", "reserved", "multicast") if getattr(address, f"is_{k}")),
            "not public",
        )
        raise AddressRefused(f"{address} is {kind.replace('_', '-')} and not in network.allow_private")

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address of `host`; refused if any of them is not allowed (no picking the harmless one)."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for ip in addresses:
            self.check(ip)
        return addresses


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, guard: AddressGuard):
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for ip in self._guard.resolve(host, port):
            try:
                return self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: AddressGuard):
        super().__init__(trust_env=False)  # no proxy from the environment: the guard must see the real peer
        # HTTPTransport has no parameter for httpcore's network backend, so its pool is rebuilt with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=_GuardedBackend(guard)
        )


class _HostGate:
    """Per host: a semaphore for concurrency and the earliest time the next request may start."""

    def __init__(self, concurrency: int):
        self.slots = threading.Semaphore(concurrency)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self.delay: float | None = None  # set from robots.txt Crawl-delay


class Fetcher:
    """One per source and run; thread-safe, so entry pages can be fetched from a thread pool."""

    def __init__(self, network: NetworkSettings):
        self.network = network
        self._client = httpx.Client(
            transport=_GuardedTransport(AddressGuard(network.allow_private)),
            timeout=httpx.Timeout(network.timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": network.user_agent},
        )
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotFileParser | FetchError] = {}
        self._lock = threading.Lock()
        self._robots_lock = threading.Lock()  # one robots.txt request per origin, even from many threads

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, url: str, headers: Mapping[str, str] | None = None, robots: bool = True) -> Response:
        """GET with retries; returns a 2xx or 304 response, raises FetchError for everything else."""
        attempts = self.network.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._follow(url, dict(headers or {}), robots)
            except FetchError as exc:
                if exc.transient and attempt < attempts:
                    time.sleep(self._backoff(attempt))
                    continue
                if attempt > 1:
                    exc.detail += f" (after {attempt} attempts)"
                raise
            status = response.status
            if status == 429 or status >= 500:
                if attempt < attempts:
                    time.sleep(self._backoff(attempt, response.headers.get("retry-after")))
                    continue
                detail = f"HTTP {status} after {attempt} attempts"
                raise FetchError(Reason.HTTP_ERROR, detail, response.url, response.body, status)
            if status >= 300 and status != 304:
                raise FetchError(Reason.HTTP_ERROR, f"HTTP {status}", response.url, response.body, status)
            return response
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None = None) -> float:
        wait = self.network.backoff_s * 2 ** (attempt - 1)
        if retry_after:
            wait = _retry_after_seconds(retry_after, default=wait)
        return min(max(wait, 0.0), self.network.max_retry_wait_s)

    def _follow(self, url: str, headers: dict[str, str], robots: bool) -> Response:
        visited = [url]
        for _ in range(self.network.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(Reason.HTTP_ERROR, f"not an http(s) URL: {url!r}", url)
            if robots and self.network.respect_robots:
                self._check_robots(url)
            response = self._once(url, headers)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            url = urljoin(url, location.strip())
            if url in visited:
                raise FetchError(Reason.TOO_MANY_REDIRECTS, f"redirect loop: {' -> '.join([*visited, url])}", url)
            visited.append(url)
        raise FetchError(Reason.TOO_MANY_REDIRECTS, f"more than {self.network.max_redirects} redirects", visited[0])

    def _once(self, url: str, headers: dict[str, str]) -> Response:
        cap = self.network.max_response_bytes
        with self._host_slot(urlsplit(url).netloc.lower()):
            try:
                with self._client.stream("GET", url, headers=headers) as r:
                    length = r.headers.get("content-length", "")
                    if length.isdigit() and int(length) > cap:
                        raise FetchError(Reason.TOO_LARGE, f"Content-Length {length} over the cap of {cap} bytes", url)
                    body = self._read_capped(r, url, cap)
                    return Response(str(r.url), r.status_code, dict(r.headers), body)
            except AddressRefused as exc:
                raise FetchError(Reason.PRIVATE_ADDRESS, f"refused: {exc}", url) from None
            except httpx.TimeoutException as exc:
                detail = f"{type(exc).__name__} after {self.network.timeout_s} s"
                raise FetchError(Reason.TIMEOUT, detail, url) from None
            except httpx.DecodingError as exc:
                raise FetchError(Reason.UNREADABLE, f"content encoding cannot be decoded: {exc}", url) from None
            except httpx.HTTPError as exc:
                raise FetchError(Reason.CONNECTION_FAILED, f"{type(exc).__name__}: {exc}", url) from None

    def _read_capped(self, r: httpx.Response, url: str, cap: int) -> bytes:
        deadline = time.monotonic() + self.network.max_request_seconds
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(Reason.TOO_LARGE, f"body over the cap of {cap} bytes", url)
            if time.monotonic() > deadline:
                detail = f"body still arriving after {self.network.max_request_seconds} s"
                raise FetchError(Reason.TIMEOUT, detail, url)
            chunks.append(chunk)
        return b"".join(chunks)

    @contextlib.contextmanager
    def _host_slot(self, host: str) -> Iterator[None]:
        with self._lock:
            gate = self._gates.setdefault(host, _HostGate(self.network.per_host_concurrency))
        with gate.slots:
            delay = max(self.network.per_host_delay_s, gate.delay or 0.0)
            with gate.lock:
                now = time.monotonic()
                start = max(now, gate.next_start)
                gate.next_start = start + delay
            time.sleep(max(0.0, start - now))
            yield

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            rules = self._robots.get(origin)
            if rules is None:
                rules = self._robots[origin] = self._load_robots(origin)
        if isinstance(rules, FetchError):
            raise FetchError(rules.reason, f"{rules.detail} (fetching {origin}/robots.txt)", url, status=rules.status)
        if not rules.can_fetch(self.network.user_agent, url):
            raise FetchError(Reason.ROBOTS_DISALLOWED, f"{origin}/robots.txt disallows it", url)

    def _load_robots(self, origin: str) -> RobotFileParser | FetchError:
        """RFC 9309: a 4xx robots.txt means no rules, a 5xx means keep out; a network failure fails the page."""
        rules = RobotFileParser(f"{origin}/robots.txt")
        try:
            response = self.get(f"{origin}/robots.txt", robots=False)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                rules.parse([])
                return rules
            if exc.status is not None:
                return FetchError(Reason.ROBOTS_DISALLOWED, f"robots.txt answered {exc.status}", exc.url)
            return exc
        rules.parse(response.body.decode("utf-8", "replace").splitlines())
        crawl_delay = rules.crawl_delay(self.network.user_agent)
        if crawl_delay:
            with self._lock:
                host = urlsplit(origin).netloc.lower()
                gate = self._gates.setdefault(host, _HostGate(self.network.per_host_concurrency))
            gate.delay = min(float(crawl_delay), self.network.max_crawl_delay_s)
        return rules


def _retry_after_seconds(value: str, default: float) -> float:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    return when.timestamp() - time.time()
