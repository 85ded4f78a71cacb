"""Extraction quality on the dev gold sets, judged by ../shared/eval/score.py from the published Parquet.
The floors sit just under the figures measured when they were set (README, "Quality"), so a regression fails
the suite; raise them when the coder improves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.runner import run_pipeline
from tests.conftest import SCORER, SHARED

pytestmark = pytest.mark.slow
DEV = SHARED / "eval" / "dev"
FLOORS = {
    ("gold_articles", "actors", "f1"): 0.90,
    ("gold_articles", "events", "f1"): 0.62,
    ("gold_articles", "commitments", "f1"): 0.69,
    ("gold_articles", "commitments", "status_accuracy"): 0.80,
    ("plover_gsr", "events", "recall"): 0.57,
    ("kiel_commitments", "commitments", "recall"): 0.74,
}


def _scores(name: str, root: Path) -> dict:
    gold = DEV / f"{name}.jsonl"
    inbox = root / "inbox.jsonl"
    subprocess.run([sys.executable, str(SCORER), "prepare", str(gold), "--out", str(inbox)], check=True)
    run_pipeline([inbox], root / "wh", "2026-01-07", Settings.from_env())
    out = subprocess.run(
        [sys.executable, str(SCORER), "score", str(gold), "--warehouse", str(root / "wh"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def scores(tmp_path_factory) -> dict[str, dict]:
    return {
        name: _scores(name, tmp_path_factory.mktemp(name))
        for name in ("gold_articles", "plover_gsr", "kiel_commitments")
    }


def test_every_gold_record_is_published(scores):
    assert {name: s["records_missing_in_output"] for name, s in scores.items()} == {
        "gold_articles": 0,
        "plover_gsr": 0,
        "kiel_commitments": 0,
    }


@pytest.mark.parametrize(("gold", "table", "figure"), sorted(FLOORS))
def test_quality_floor(scores, gold, table, figure):
    measured = scores[gold][table][figure]
    assert measured >= FLOORS[(gold, table, figure)], scores[gold][table]
