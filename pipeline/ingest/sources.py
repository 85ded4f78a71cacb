"""The sources file: which feeds and inboxes a run ingests, and how politely the web is fetched.

```yaml
network: {allow_private: [127.0.0.1], timeout_s: 20, user_agent: "geowire/0.1 (+https://example.org/contact)"}
sources:
  - {name: example-world, type: feed, url: https://example.org/world/rss.xml, fetch_pages: true}
  - {name: dropbox, type: inbox, path: /data/inbox}
```

Everything here is plain data (dicts of str/int/float/list) once loaded, so it can travel through Airflow's XCom.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

DEFAULT_USER_AGENT = "geowire/0.1 (+https://github.com/geowire/geowire)"
SOURCE_TYPES = ("feed", "inbox")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SourcesError(ValueError):
    """A sources file that cannot be used, with the reason (the run stops before fetching anything)."""


@dataclass(frozen=True)
class NetworkSettings:
    """Politeness and safety limits for every request; all but the first three are optional in the file."""

    allow_private: tuple[str, ...] = ()  # addresses or CIDRs that may be fetched although not public
    timeout_s: float = 20.0  # connect and read timeout per request
    user_agent: str = DEFAULT_USER_AGENT
    max_response_bytes: int = 10 * 1024 * 1024  # a body over this (after decompression) is cut off and refused
    max_request_seconds: float = 120.0  # wall time for one response, so a body that trickles forever ends
    max_redirects: int = 5
    retries: int = 2  # further attempts after a 429, a 5xx or a network error
    backoff_s: float = 1.0  # the wait before retry n is backoff_s * 2**(n-1), or Retry-After when the server says
    max_retry_wait_s: float = 60.0  # a longer Retry-After is cut to this
    per_host_concurrency: int = 2  # requests in flight to one host
    per_host_delay_s: float = 1.0  # between the starts of two requests to one host (robots Crawl-delay if longer)
    max_crawl_delay_s: float = 30.0
    respect_robots: bool = True
    workers: int = 8  # page fetches in flight over all hosts

    def __post_init__(self) -> None:
        for value in self.allow_private:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise SourcesError(f"network.allow_private: {value!r} is not an address or CIDR") from exc
        for name in ("timeout_s", "max_request_seconds", "max_response_bytes", "per_host_concurrency", "workers"):
            if getattr(self, name) <= 0:
                raise SourcesError(f"network.{name} must be positive")
        for name in ("max_redirects", "retries", "backoff_s", "max_retry_wait_s", "per_host_delay_s"):
            if getattr(self, name) < 0:
                raise SourcesError(f"network.{name} must not be negative")

    def to_dict(self) -> dict:
        return {**asdict(self), "allow_private": list(self.allow_private)}

    @classmethod
    def from_dict(cls, d: dict) -> NetworkSettings:
        return cls(**{**d, "allow_private": tuple(d.get("allow_private", ()))})


@dataclass(frozen=True)
class Source:
    name: str  # unique; becomes articles.source for feed entries (and for inbox records that name none)
    type: str  # feed | inbox
    url: str | None = None  # feed
    fetch_pages: bool = True  # feed: follow each entry's link and extract the page's main text
    paths: tuple[str, ...] = field(default_factory=tuple)  # inbox: files or directories

    def to_dict(self) -> dict:
        return {**asdict(self), "paths": list(self.paths)}

    @classmethod
    def from_dict(cls, d: dict) -> Source:
        return cls(**{**d, "paths": tuple(d.get("paths", ()))})


@dataclass(frozen=True)
class SourcesConfig:
    network: NetworkSettings
    sources: tuple[Source, ...]

    def to_dict(self) -> dict:
        return {"network": self.network.to_dict(), "sources": [s.to_dict() for s in self.sources]}

    @classmethod
    def from_dict(cls, d: dict) -> SourcesConfig:
        return cls(
            NetworkSettings.from_dict(d.get("network") or {}), tuple(Source.from_dict(s) for s in d.get("sources", ()))
        )

    def with_inbox(self, paths: Sequence[str | Path], name: str = "inbox") -> SourcesConfig:
        """These sources plus an inbox of `paths` (what `geowire run --input` adds to `--sources`)."""
        if any(s.name == name for s in self.sources):
            raise SourcesError(f"source name {name!r} is taken in the sources file; --input needs it")
        return SourcesConfig(self.network, (*self.sources, Source(name, "inbox", paths=tuple(map(str, paths)))))


def plan_sources(inputs: Sequence[str | Path], sources: SourcesConfig | None) -> SourcesConfig:
    """What a run ingests: the sources file's sources, plus `inputs` as one inbox source named `inbox`.
    Without a sources file that inbox is all, and reads exactly as before sources files existed."""
    if sources is None:
        return SourcesConfig(NetworkSettings(), ()).with_inbox(inputs)
    planned = sources.with_inbox(inputs) if inputs else sources
    if not planned.sources:
        raise SourcesError("nothing to ingest: the sources file lists no sources")
    return planned


def load_sources(path: str | Path) -> SourcesConfig:
    """Read and check a sources file; relative inbox paths are taken from the file's directory."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SourcesError(f"{path}: expected a mapping with `network` and `sources`")
    unknown = set(data) - {"network", "sources"}
    if unknown:
        raise SourcesError(f"{path}: unknown top-level keys {sorted(unknown)}")
    return SourcesConfig(_network(data.get("network") or {}), _sources(data.get("sources") or [], path.parent))


def _network(raw: Any) -> NetworkSettings:
    if not isinstance(raw, dict):
        raise SourcesError("network: expected a mapping")
    known = {f.name for f in fields(NetworkSettings)}
    unknown = set(raw) - known
    if unknown:
        raise SourcesError(f"network: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    allow = raw.get("allow_private") or []
    if isinstance(allow, str) or not isinstance(allow, list):
        raise SourcesError("network.allow_private: expected a list of addresses or CIDRs")
    try:
        return NetworkSettings(**{**raw, "allow_private": tuple(str(a) for a in allow)})
    except TypeError as exc:
        raise SourcesError(f"network: {exc}") from exc


def _sources(raw: Any, base: Path) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise SourcesError("sources: expected a list")
    seen: set[str] = set()
    out: list[Source] = []
    for position, item in enumerate(raw, start=1):
        where = f"sources[{position}]"
        if not isinstance(item, dict):
            raise SourcesError(f"{where}: expected a mapping")
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not _NAME.match(name):
            raise SourcesError(f"{where}: `name` must be letters, digits, '.', '_' or '-' (got {name!r})")
        if name in seen:
            raise SourcesError(f"{where}: source name {name!r} is used twice")
        seen.add(name)
        if kind not in SOURCE_TYPES:
            raise SourcesError(f"{where} ({name}): `type` must be one of {SOURCE_TYPES} (got {kind!r})")
        allowed = {"name", "type", "url", "fetch_pages"} if kind == "feed" else {"name", "type", "path"}
        unknown = set(item) - allowed
        if unknown:
            raise SourcesError(f"{where} ({name}): unknown keys {sorted(unknown)} for type {kind}")
        if kind == "feed":
            url = item.get("url")
            if not isinstance(url, str) or not re.match(r"^https?://", url):
                raise SourcesError(f"{where} ({name}): a feed needs an http(s) `url`")
            out.append(Source(name, "feed", url=url, fetch_pages=bool(item.get("fetch_pages", True))))
        else:
            raw_paths = item.get("path")
            paths = [raw_paths] if isinstance(raw_paths, str) else raw_paths
            if not paths or not isinstance(paths, list):
                raise SourcesError(f"{where} ({name}): an inbox needs a `path` (a string or a list)")
            out.append(Source(name, "inbox", paths=tuple(str(base / Path(p).expanduser()) for p in paths)))
    return tuple(out)
