"""Extraction quality on the dev gold sets, judged by ../shared/eval/score.py from the published Parquet.
The floors sit just under the measured figures, so a regression fails the suite."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.config import Settings
from pipeline.runner import run_pipeline
from tests.conftest import GOLD_ARTICLES, SCORER

pytestmark = pytest.mark.slow
ACTOR_F1_FLOOR = 0.90


def score(gold, warehouse) -> dict:
    out = subprocess.run(
        [sys.executable, str(SCORER), "score", str(gold), "--warehouse", str(warehouse), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def gold_articles_scores(tmp_path_factory):
    root = tmp_path_factory.mktemp("gold")
    inbox = root / "inbox.jsonl"
    subprocess.run([sys.executable, str(SCORER), "prepare", str(GOLD_ARTICLES), "--out", str(inbox)], check=True)
    run_pipeline([inbox], root / "wh", "2026-01-07", Settings.from_env())
    return score(GOLD_ARTICLES, root / "wh")


def test_every_gold_article_is_published(gold_articles_scores):
    assert gold_articles_scores["records_missing_in_output"] == 0


def test_actor_f1_floor(gold_articles_scores):
    actors = gold_articles_scores["actors"]
    assert actors["f1"] >= ACTOR_F1_FLOOR, actors
