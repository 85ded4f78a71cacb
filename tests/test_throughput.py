"""The throughput work must not change results: the fast attribute ruler and lemmatizer annotate as spaCy's do,
NER skipped on parsed sentences where it cannot change the actors loses nothing, and the published Parquet does
not depend on the number of worker processes or on the batch size."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date

import pytest

from pipeline import stages
from pipeline.config import Settings
from pipeline.extract.events import may_name_place
from pipeline.extract.extractor import Extractor
from pipeline.extract.fast_rules import FastAttributeRuler, FastLemmatizer
from pipeline.extract.gazetteer import load_gazetteer
from pipeline.extract.lexicon import load_lexicon
from pipeline.normalize import normalize_record
from pipeline.records import RawRecord
from pipeline.runner import run_pipeline
from tests.conftest import GOLD_ARTICLES, REPO, SAMPLE_ARTICLE, parquet_hashes


def _sentences() -> list[str]:
    texts = [SAMPLE_ARTICLE.read_text(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in GOLD_ARTICLES.read_text(encoding="utf-8").splitlines() if line]
    texts += ["Y'all gonna see it ain't over.", "There's nothing they didn't do for me and I'd give it to you."]
    return [s.strip() for t in texts for s in t.replace("\n", " ").split(". ") if s.strip()]


def test_fast_ruler_and_lemmatizer_annotate_as_spacy():
    nlp = stages.load_nlp(Settings.from_env().spacy_model)
    fast = {
        "attribute_ruler": FastAttributeRuler(nlp.get_pipe("attribute_ruler")),
        "lemmatizer": FastLemmatizer(nlp.get_pipe("lemmatizer")),  # type: ignore[arg-type]
    }

    def annotate(replaced: dict) -> list[list[tuple]]:
        docs = [nlp.make_doc(text) for text in _sentences()]
        for name, proc in nlp.pipeline:
            if name != "ner":
                docs = list(replaced.get(name, proc).pipe(docs))
        return [[(t.pos_, t.tag_, str(t.morph), t.lemma_, t.dep_) for t in doc] for doc in docs]

    spacy_own = annotate({})
    assert len(spacy_own) > 100
    assert annotate(fast) == spacy_own
    assert annotate(fast) == spacy_own  # again, from the lemmas it remembers


# Names only the NER model finds, in sentences the old "two unknown capitalised words" test let through
# without NER: a name opening the sentence, a surname after a title, a place for the event's location.
NER_GATE_TEXTS = [
    "Tomas Brevik, the Norwegian foreign minister, met Japan's prime minister on Monday.",
    "Japan condemned the attack. President Brevik of Norway promised aid to Ukraine.",
    "Japan and Norway held talks in Oslo on Monday.",
    "Foreign Minister Ursula von der Brevik of Norway met Japan's prime minister in Tokyo.",
]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(stages.load_nlp(Settings.from_env().spacy_model), load_gazetteer(), load_lexicon())


def _articles(texts: list[str]):
    return [normalize_record(RawRecord(source_id=str(i), source="test", text=t), "en") for i, t in enumerate(texts)]


def test_ner_gate_finds_unknown_officials_and_places(extractor):
    first, titled, place, _ = extractor.extract_batch(_articles(NER_GATE_TEXTS), date(2026, 1, 7))
    assert "PER:tomas-brevik" in {m.actor_id for m in first.mentions}
    assert "PER:brevik" in {m.actor_id for m in titled.mentions}
    assert [e["location"] for e in place.events] == ["Oslo"]


def test_place_gate_runs_ner_only_where_a_name_follows_in_or_at(extractor):
    """The late NER for an event's location: only for a word not all in lower case after "in"/"at" (or "in the")."""
    may, may_not = (
        ["talks in Oslo", "a rally at the Kremlin", "troops in the U.S.", "talks in 2021"],
        ["talks in the morning", "a rally at noon", "they met in", "talks at a time of crisis"],
    )
    assert [may_name_place(extractor.nlp.make_doc(text)) for text in may + may_not] == [True] * 4 + [False] * 4
    morning, oslo = extractor.extract_batch(
        _articles(["Japan and Norway held talks in the morning.", "Japan and Norway held talks in Oslo."]),
        date(2026, 1, 7),
    )
    assert [e["location"] for e in morning.events + oslo.events] == [None, "Oslo"]


def test_ner_gate_changes_nothing(extractor):
    """The gated extractor against one that runs NER on every parsed sentence, as the full pipeline does."""
    texts = [*NER_GATE_TEXTS, SAMPLE_ARTICLE.read_text(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in GOLD_ARTICLES.read_text(encoding="utf-8").splitlines() if line]
    articles = _articles(texts)
    gated = extractor.extract_batch(articles, date(2026, 1, 7))
    everywhere = Extractor(extractor.nlp, extractor.actors.gazetteer, extractor.events.lexicon)
    everywhere.actors.sentences_where_ner_counts = lambda article, doc, spans, tagged: set(tagged)
    assert everywhere.extract_batch(articles, date(2026, 1, 7)) == gated
    assert len(_where_ner_counts(extractor, articles[-1])) < len(articles[-1].sentences)


def test_ner_gate_reads_the_tagger(extractor):
    """A name in two words goes to NER when the tagger reads them as proper nouns; capitalised words it reads
    otherwise (a slogan, which NER sometimes makes a person) and a transcript's speaker label do not."""
    texts = [
        "Tomas Brevik will help American families, the President said.",
        "Build Back Better will help American families, the President said.",
        "MS. PSAKI: We will help American families.",
    ]
    assert [_where_ner_counts(extractor, article) for article in _articles(texts)] == [{0}, set(), set()]


def _where_ner_counts(extractor, article) -> set[int]:
    """The gate's choice for an article whose every sentence has been parsed."""
    doc = extractor.nlp.make_doc(article.text)
    components = [name for name in extractor.components if name != "ner"]
    tagged = dict(enumerate(extractor.analyse([article.text[s.start : s.end] for s in article.sentences], components)))
    return extractor.actors.sentences_where_ner_counts(article, doc, extractor.actors.dictionary_spans(doc), tagged)


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
