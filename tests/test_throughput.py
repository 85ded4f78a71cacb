"""The throughput work must not change results: the fast attribute ruler annotates as spaCy's does, and the
published Parquet does not depend on the number of worker processes or on the batch size."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from pipeline import stages
from pipeline.config import Settings
from pipeline.extract.fast_rules import FastAttributeRuler
from pipeline.runner import run_pipeline
from tests.conftest import GOLD_ARTICLES, REPO, SAMPLE_ARTICLE, parquet_hashes


def _sentences() -> list[str]:
    texts = [SAMPLE_ARTICLE.read_text(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in GOLD_ARTICLES.read_text(encoding="utf-8").splitlines() if line]
    texts += ["Y'all gonna see it ain't over.", "There's nothing they didn't do for me and I'd give it to you."]
    return [s.strip() for t in texts for s in t.replace("\n", " ").split(". ") if s.strip()]


def test_fast_attribute_ruler_annotates_as_spacy():
    nlp = stages.load_nlp(Settings.from_env().spacy_model)
    fast = FastAttributeRuler(nlp.get_pipe("attribute_ruler"))

    def annotate(ruler) -> list[list[tuple]]:
        docs = [nlp.make_doc(text) for text in _sentences()]
        for name, proc in nlp.pipeline:
            if name != "ner":
                docs = list((ruler if name == "attribute_ruler" else proc).pipe(docs))
        return [[(t.pos_, t.tag_, str(t.morph), t.lemma_, t.dep_) for t in doc] for doc in docs]

    spacy_own = annotate(nlp.get_pipe("attribute_ruler"))
    assert len(spacy_own) > 100
    assert annotate(fast) == spacy_own


def test_ordered_map_keeps_input_order_on_a_pool():
    assert list(stages._ordered_map(str, range(9), 2, stages._no_setup)) == [str(i) for i in range(9)]
    assert list(stages._ordered_map(str, iter([]), 2, stages._no_setup)) == []


@pytest.mark.slow
def test_results_do_not_depend_on_workers_or_batch_size(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_ARTICLE, inbox / "sample_article.txt")
    shutil.copy(REPO / "pipeline" / "sample_inbox" / "whitehouse_releases.jsonl", inbox / "wh.jsonl")
    shutil.copy(GOLD_ARTICLES, inbox / "gold.jsonl")
    hashes = {}
    for workers, batch_size in ((1, 200), (2, 3)):
        warehouse = tmp_path / f"wh-{workers}-{batch_size}"
        settings = replace(Settings.from_env(), workers=workers, batch_size=batch_size)
        summary = run_pipeline([inbox], warehouse, "2026-01-07", settings)
        assert summary["rows"]["events"] > 10
        hashes[(workers, batch_size)] = parquet_hashes(warehouse)
    assert hashes[(1, 200)] == hashes[(2, 3)]
