"""Records passed between stages: raw inputs and quarantined inputs."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from enum import StrEnum

# Payloads larger than this are kept as a pointer to where they came from, not inline.
INLINE_PAYLOAD_LIMIT = 64 * 1024


class Reason(StrEnum):
    """Why an input was quarantined. Each value is tested and documented in the README."""

    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_TEXT = "missing_text"
    EMPTY_FILE = "empty_file"
    BINARY_FILE = "binary_file"
    UNDECODABLE_BYTES = "undecodable_bytes"
    TOO_LARGE = "too_large"
    NON_ENGLISH = "non_english"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE = "unreadable"
    NO_MAIN_TEXT = "no_main_text"
    # Web sources (pipeline/ingest/web.py): the URL is the record's path.
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION_FAILED = "connection_failed"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    PRIVATE_ADDRESS = "private_address"
    ROBOTS_DISALLOWED = "robots_disallowed"
    NOT_HTML = "not_html"
    BAD_CHARSET = "bad_charset"
    MALFORMED_FEED = "malformed_feed"
    XML_ENTITIES = "xml_entities"
    SOURCE_FAILED = "source_failed"


@dataclass(frozen=True)
class RawRecord:
    """One article as read from an input, before normalisation."""

    source_id: str
    source: str
    text: str
    title: str | None = None
    published: str | None = None
    url: str | None = None
    path: str = ""
    line: int | None = None  # record number within a JSONL or JSON-array file

    @property
    def origin(self) -> str:
        """path[:line], for messages and quarantine records."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class QuarantinedInput:
    """An input that could not become an article, with the reason and the raw payload or a pointer to it."""

    path: str
    line: int | None
    reason: Reason
    detail: str
    payload: str | None = None
    payload_encoding: str | None = None  # "utf-8" or "base64"
    payload_pointer: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reason"] = str(self.reason)
        return d


def quarantine(path: str, line: int | None, reason: Reason, detail: str, raw: bytes | str | None) -> QuarantinedInput:
    """Build a quarantine record, keeping the raw payload inline when small and a pointer when huge."""
    pointer = f"{path}:{line}" if line is not None else path
    if raw is None:
        return QuarantinedInput(path, line, reason, detail, payload_pointer=pointer)
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > INLINE_PAYLOAD_LIMIT:
        return QuarantinedInput(
            path, line, reason, f"{detail} ({size} bytes, kept as a pointer)", payload_pointer=pointer
        )
    if isinstance(raw, str):
        return QuarantinedInput(
            path, line, reason, detail, payload=raw, payload_encoding="utf-8", payload_pointer=pointer
        )
    try:
        return QuarantinedInput(path, line, reason, detail, raw.decode("utf-8"), "utf-8", pointer)
    except UnicodeDecodeError:
        return QuarantinedInput(path, line, reason, detail, base64.b64encode(raw).decode("ascii"), "base64", pointer)
