"""One pass over a batch of articles: dictionary matches on every sentence, then the spaCy model (NER and
dependency parse) only on sentences that can hold an unknown name or an event, then actors, events and
commitments per article."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract.actors import ActorExtractor, Mention
from pipeline.extract.commitments import code_commitments
from pipeline.extract.events import STAND_IN_WORDS, EventCoder, code_article_events
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


class Extractor:
    def __init__(self, nlp: Language, gazetteer: Gazetteer, lexicon: Lexicon):
        self.nlp = nlp
        self.actors = ActorExtractor(nlp, gazetteer)
        self.events = EventCoder(lexicon, gazetteer)

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
        for wanted, components in ((parse, None), (ner_only, ["tok2vec", "ner"])):
            texts = [articles[p].text[articles[p].sentences[i].start : articles[p].sentences[i].end] for p, i in wanted]
            disabled = self.nlp.select_pipes(enable=components) if components else None
            try:
                for (pos, index), sent_doc in zip(wanted, self.nlp.pipe(texts, batch_size=64), strict=True):
                    parsed[pos][index] = sent_doc
            finally:
                if disabled is not None:
                    disabled.restore()
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
