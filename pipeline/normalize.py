"""Raw records -> articles: clean text, headings, sentences, deterministic ids, duplicates."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.records import RawRecord

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SENTENCE_END = (".", "!", "?", '"', "\u201d", "'", "\u2019", ")", "]")
_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$|ref$|cmpid$)")


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    article_id: str
    source_id: str
    source: str
    url: str | None
    title: str | None
    published_at: datetime | None
    language: str
    text: str
    content_hash: str
    word_count: int
    sentences: tuple[Sentence, ...]
    duplicate_of: str | None = None


def stable_hash(*parts: str, length: int = 16) -> str:
    """Hex digest of the parts, joined unambiguously; the basis of every id in the contract."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:length]


def clean_text(raw: str) -> str:
    """NFC, no control characters, single spaces, paragraphs one per line, broken lines repaired."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and _continues(paragraphs[-1], line):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
    return "\n".join(paragraphs)


def _continues(previous: str, line: str) -> bool:
    """A line break inside a sentence: the previous line has no final punctuation and this one goes on in lower case
    or the previous one ends with a comma or similar."""
    if is_heading(previous):
        return False
    if previous.endswith((",", ";", "(", "-", "\u2013", "\u2014")):
        return True
    return not previous.endswith((*_SENTENCE_END, ":")) and line[:1].islower()


def is_heading(line: str) -> bool:
    """Section headings ("What's Happening?", "Beyond the Headlines") are not sentences."""
    words = line.split()
    if not words or len(words) > 10 or line.endswith((".", ",", ";")):
        return False
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    small = sum(1 for w in words if w.lower() in {"a", "an", "the", "of", "and", "in", "on", "for", "to", "is", "at"})
    return capitalised + small == len(words) and capitalised >= max(1, len(words) // 2)


SPEAKER_HONORIFICS = ("MR.", "MS.", "MRS.", "DR.")


@cache
def _sentencizer():
    import spacy
    from spacy.symbols import ORTH

    nlp = spacy.blank("en")
    # Transcripts name speakers in capitals ("MS. PSAKI: Sure."): the honorific does not end a sentence, as its
    # title-case form ("Ms.") already does not in spaCy's English exceptions.
    for honorific in SPEAKER_HONORIFICS:
        nlp.tokenizer.add_special_case(honorific, [{ORTH: honorific}])
    nlp.add_pipe("sentencizer")
    return nlp


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Sentence spans in `text`; headings and paragraphs never share a sentence."""
    nlp = _sentencizer()
    spans: list[tuple[int, int]] = []
    offset = 0
    paragraphs = text.split("\n")
    for para in paragraphs:
        if para and not (is_heading(para) and len(paragraphs) > 1):
            for sent in nlp(para).sents:
                start = offset + sent.start_char
                end = offset + sent.end_char
                if text[start:end].strip():
                    spans.append((start, end))
        offset += len(para) + 1
    return tuple(Sentence(i, s, e) for i, (s, e) in enumerate(spans))


def canonical_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip()
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k))
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def content_hash(text: str) -> str:
    return stable_hash(" ".join(text.lower().split()), length=32)


def parse_published(value: str | None) -> datetime | None:
    """ISO 8601 dates and times, or RFC 2822 as in feeds; naive times are taken as UTC."""
    if not value:
        return None
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def article_id_for(url: str | None, source: str, source_id: str, text_hash: str) -> str:
    if url:
        return stable_hash("url", url)
    if source_id:
        return stable_hash("source", source, source_id)
    return stable_hash("text", text_hash)


def normalize_record(record: RawRecord, language: str) -> Article:
    text = clean_text(record.text)
    url = canonical_url(record.url)
    digest = content_hash(text)
    return Article(
        article_id=article_id_for(url, record.source, record.source_id, digest),
        source_id=record.source_id,
        source=record.source,
        url=url,
        title=clean_text(record.title) if record.title else None,
        published_at=parse_published(record.published),
        language=language,
        text=text,
        content_hash=digest,
        word_count=len(text.split()),
        sentences=split_sentences(text),
    )
