"""Read an inbox of article files: .jsonl, .json, .txt, .html and .gz of any of these.

Every input ends as exactly one `RawRecord` or one `QuarantinedInput`, so the run can count
inputs read = published + duplicates + quarantined.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.records import QuarantinedInput, RawRecord, Reason, quarantine

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".txt", ".html", ".htm")
DEFAULT_SOURCE = "inbox"
_BINARY_SNIFF = 8192
# A page whose extracted main text is shorter than this is navigation or boilerplate, not an article.
MIN_HTML_WORDS = 8


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and every non-hidden file below named directories, in sorted order."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path


def read_inbox(paths: Iterable[str | Path], max_bytes: int) -> Iterator[RawRecord | QuarantinedInput]:
    for path in iter_input_files(paths):
        yield from read_file(path, max_bytes)


def read_file(path: Path, max_bytes: int) -> Iterator[RawRecord | QuarantinedInput]:
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield quarantine(name, None, Reason.UNREADABLE, f"cannot stat file: {exc}", None)
        return
    if size > max_bytes:
        yield quarantine(name, None, Reason.TOO_LARGE, f"file is {size} bytes, limit {max_bytes}", None)
        return
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    kind = suffixes[-2] if compressed and len(suffixes) > 1 else suffixes[-1] if suffixes else ""
    if kind not in SUPPORTED_SUFFIXES:
        yield quarantine(
            name, None, Reason.UNSUPPORTED_FORMAT, f"unsupported file type {''.join(suffixes) or '(none)'}", _head(path)
        )
        return
    try:
        data = _read_decompressed(path, max_bytes) if compressed else path.read_bytes()
    except _TooLarge as exc:
        yield quarantine(name, None, Reason.TOO_LARGE, str(exc), None)
        return
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield quarantine(name, None, Reason.UNREADABLE, f"cannot read file: {exc}", _head(path))
        return
    if not data.strip():
        yield quarantine(name, None, Reason.EMPTY_FILE, "file is empty", data)
        return
    if b"\x00" in data[:_BINARY_SNIFF]:
        yield quarantine(name, None, Reason.BINARY_FILE, "file holds NUL bytes: not a text file", data)
        return
    if kind in (".html", ".htm"):
        yield _from_html(path, data)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield quarantine(name, None, Reason.UNDECODABLE_BYTES, f"not valid UTF-8: {exc}", data)
        return
    if kind == ".jsonl":
        yield from _from_jsonl(path, text)
    elif kind == ".json":
        yield from _from_json(path, text)
    else:
        yield RawRecord(source_id=_stem(path), source=DEFAULT_SOURCE, text=text, path=name)


class _TooLarge(Exception):
    pass


def _read_decompressed(path: Path, max_bytes: int) -> bytes:
    # Read one byte past the limit so a compression bomb is detected without inflating it whole.
    with gzip.open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge(f"decompressed content exceeds the limit of {max_bytes} bytes")
    return data


def _head(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(1024)
    except OSError:
        return None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in reversed(path.suffixes):
        name = name[: -len(suffix)] if name.endswith(suffix) else name
    return name or path.name


def _from_jsonl(path: Path, text: str) -> Iterator[RawRecord | QuarantinedInput]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield quarantine(str(path), line_no, Reason.MALFORMED_JSON, f"invalid JSON: {exc}", line)
            continue
        yield _from_object(path, line_no, obj, line)


def _from_json(path: Path, text: str) -> Iterator[RawRecord | QuarantinedInput]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        yield quarantine(str(path), None, Reason.MALFORMED_JSON, f"invalid JSON: {exc}", text)
        return
    if isinstance(obj, list):
        for index, item in enumerate(obj, start=1):
            yield _from_object(path, index, item, json.dumps(item, ensure_ascii=False))
    else:
        yield _from_object(path, None, obj, text)


def _from_object(path: Path, line: int | None, obj: object, raw: str) -> RawRecord | QuarantinedInput:
    if not isinstance(obj, dict):
        return quarantine(
            str(path), line, Reason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}", raw
        )
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return quarantine(str(path), line, Reason.MISSING_TEXT, "record has no non-empty string 'text'", raw)
    record_id = obj.get("id")
    source_id = str(record_id) if record_id not in (None, "") else f"{_stem(path)}-{line or 1}"
    return RawRecord(
        source_id=source_id,
        source=_optional_str(obj.get("source")) or DEFAULT_SOURCE,
        text=text,
        title=_optional_str(obj.get("title")),
        published=_optional_str(obj.get("published")),
        url=_optional_str(obj.get("url")),
        path=str(path),
        line=line,
    )


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _from_html(path: Path, data: bytes) -> RawRecord | QuarantinedInput:
    import trafilatura

    doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False, include_tables=False)
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or len(text.split()) < MIN_HTML_WORDS:
        return quarantine(str(path), None, Reason.NO_MAIN_TEXT, "no main text found in the HTML page", data)
    return RawRecord(
        source_id=_stem(path),
        source=_optional_str(getattr(doc, "sitename", None)) or DEFAULT_SOURCE,
        text=text,
        title=_optional_str(getattr(doc, "title", None)),
        published=_optional_str(getattr(doc, "date", None)),
        url=_optional_str(getattr(doc, "url", None)),
        path=str(path),
    )
