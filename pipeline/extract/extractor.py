"""One pass over a batch of articles: dictionary matches on every sentence, then the spaCy model (NER and
dependency parse) only on sentences that can hold an unknown name or an event, then actors, events and
commitments per article.

The model's components run one after the other over the batch's sentences (as `nlp.pipe` does), with two
savings that leave every annotation the same: the attribute ruler is replaced by `FastAttributeRuler`, and
sentences that only need names skip the shared tok2vec, which the NER component does not read."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from spacy.language import Language
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc

from pipeline.extract.actors import ActorExtractor, Mention
from pipeline.extract.commitments import code_commitments
from pipeline.extract.events import STAND_IN_WORDS, EventCoder, code_article_events
from pipeline.extract.fast_rules import FastAttributeRuler, UnsupportedPattern
from pipeline.extract.gazetteer import ActorInfo, Gazetteer
from pipeline.extract.lexicon import Lexicon
from pipeline.normalize import Article


@dataclass
class ArticleResult:
    mentions: list[Mention] = field(default_factory=list)
    actors: dict[str, ActorInfo] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)
    sentences_parsed: int = 0


# Sentences per model batch: results do not depend on it (tests/test_throughput.py), only speed does.
SENTENCE_BATCH = 128


class Extractor:
    def __init__(self, nlp: Language, gazetteer: Gazetteer, lexicon: Lexicon):
        self.nlp = nlp
        self.actors = ActorExtractor(nlp, gazetteer)
        self.events = EventCoder(lexicon, gazetteer)
        self.components: dict[str, Any] = dict(nlp.pipeline)
        ruler = self.components.get("attribute_ruler")
        if isinstance(ruler, AttributeRuler):
            with contextlib.suppress(UnsupportedPattern):  # another model's rules: spaCy's own ruler
                self.components["attribute_ruler"] = FastAttributeRuler(ruler)

    def analyse(self, texts: Iterable[str], components: Iterable[str] | None = None) -> Iterator[Doc]:
        """`nlp.pipe` over the given components (default all), lazily, in pipeline order."""
        wanted = set(self.components) if components is None else set(components)
        docs: Iterator[Doc] = (self.nlp.make_doc(text) for text in texts)
        for name, proc in self.components.items():
            if name in wanted:
                docs = proc.pipe(docs, batch_size=SENTENCE_BATCH)
        return docs

    def extract_batch(self, articles: Sequence[Article], fallback_date: date) -> list[ArticleResult]:
        docs = [self.nlp.make_doc(a.text) for a in articles]
        spans = [self.actors.dictionary_spans(doc) for doc in docs]
        parse: list[tuple[int, int]] = []  # sentences that may hold an event: full pipeline
        ner_only: list[tuple[int, int]] = []  # sentences with an unknown name only: tagger and parser skipped
        for pos, (article, doc) in enumerate(zip(articles, docs, strict=True)):
            need_ner = self.actors.sentences_needing_ner(article, doc, spans[pos])
            starts = [s.start for s in article.sentences]
            mentioned = {
                bisect.bisect_right(starts, span.start_char) - 1
                for span, entry in spans[pos]
                if getattr(entry, "actor_id", None)
            }
            for s in article.sentences:
                words = [t.lower_ for t in doc.char_span(s.start, s.end, alignment_mode="expand") or []]
                has_actor = s.index in mentioned or s.index in need_ner or STAND_IN_WORDS.intersection(words)
                if has_actor and self.events.is_candidate(words):
                    parse.append((pos, s.index))
                elif s.index in need_ner:
                    ner_only.append((pos, s.index))
        parsed: list[dict[int, Doc]] = [{} for _ in articles]
        for wanted, components in ((parse, None), (ner_only, ["ner"])):
            texts = [articles[p].text[articles[p].sentences[i].start : articles[p].sentences[i].end] for p, i in wanted]
            for (pos, index), sent_doc in zip(wanted, self.analyse(texts, components), strict=True):
                parsed[pos][index] = sent_doc
        results = []
        for pos, (article, doc) in enumerate(zip(articles, docs, strict=True)):
            found = self.actors.resolve(article, doc, spans[pos], parsed[pos])
            events = code_article_events(self.events, article, parsed[pos], found.mentions, found.actors, fallback_date)
            commitments = code_commitments(
                events, article.text, article.sentences, country_counts(found.mentions), found.actors
            )
            results.append(
                ArticleResult(found.mentions, found.actors, [e.row() for e in events], commitments, len(parsed[pos]))
            )
        return results


def country_counts(mentions: list[Mention]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in mentions:
        if len(m.actor_id) == 3:
            counts[m.actor_id] = counts.get(m.actor_id, 0) + 1
    return counts


def actor_row(info: ActorInfo) -> dict:
    return asdict(info)
