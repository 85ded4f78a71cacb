"""One pass over a batch of articles: dictionary matches on every sentence, then the spaCy model only where
it can change the result, then actors, events and commitments per article.

Which sentences get which components: the tagger, parser and lemmatizer run on sentences that may hold an event
(an actor or a word standing for one, and a trigger word form); NER runs on those of them whose entities can
change the actors (`ActorExtractor.sentences_where_ner_counts`), alone on other sentences with an unknown name,
and late on sentences that turned out to hold an event and may name its place, for its location. NER is the
model's costliest component and reads nothing the others set, so running it after them on a subset annotates
that subset as `nlp.pipe` would. The attribute ruler and the lemmatizer are replaced by drop-ins
(`fast_rules.py`) that set the same values faster."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.pipeline import AttributeRuler, Lemmatizer
from spacy.strings import get_string_id
from spacy.tokens import Doc

from pipeline.extract.actors import ActorExtractor, Mention
from pipeline.extract.commitments import code_commitments
from pipeline.extract.events import (
    SIGNER_PRONOUN,
    STAND_IN_WORDS,
    CodedEvent,
    EventCoder,
    code_article_events,
    coder_location,
    may_name_place,
)
from pipeline.extract.fast_rules import FastAttributeRuler, FastLemmatizer, UnsupportedPattern
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
STAND_IN_IDS = frozenset(get_string_id(word) for word in STAND_IN_WORDS)


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
        lemmatizer = self.components.get("lemmatizer")
        if isinstance(lemmatizer, Lemmatizer) and lemmatizer.mode == "rule":
            self.components["lemmatizer"] = FastLemmatizer(lemmatizer)

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
        signers = [self.events.signer(a) for a in articles]  # "I" of a signed document: the gate and the coder
        parse: list[tuple[int, int]] = []  # sentences that may hold an event: tagger, parser, lemmas
        ner_only: list[tuple[int, int]] = []  # sentences with an unknown name only: tagger and parser skipped
        for pos, (article, doc) in enumerate(zip(articles, docs, strict=True)):
            need_ner = self.actors.sentences_needing_ner(article, doc, spans[pos])
            starts = [s.start for s in article.sentences]
            mentioned = {
                bisect.bisect_right(starts, span.start_char) - 1
                for span, entry in spans[pos]
                if getattr(entry, "actor_id", None)
            }
            stand_ins = STAND_IN_IDS | {get_string_id(SIGNER_PRONOUN)} if signers[pos] else STAND_IN_IDS
            lowers = doc.to_array(LOWER).tolist()  # string ids: no Token object per word
            for s in article.sentences:
                sent = doc.char_span(s.start, s.end, alignment_mode="expand")
                words = set(lowers[sent.start : sent.end]) if sent is not None else set()
                has_actor = s.index in mentioned or s.index in need_ner or not stand_ins.isdisjoint(words)
                if has_actor and self.events.is_candidate(words):
                    parse.append((pos, s.index))
                elif s.index in need_ner:
                    ner_only.append((pos, s.index))
        parsed: list[dict[int, Doc]] = [{} for _ in articles]
        without_ner = [name for name in self.components if name != "ner"]
        for wanted, components in ((parse, without_ner), (ner_only, ["ner"])):
            texts = [articles[p].text[articles[p].sentences[i].start : articles[p].sentences[i].end] for p, i in wanted]
            for (pos, index), sent_doc in zip(wanted, self.analyse(texts, components), strict=True):
                parsed[pos][index] = sent_doc
        tagged: list[dict[int, Doc]] = [{} for _ in articles]
        for pos, index in parse:
            tagged[pos][index] = parsed[pos][index]
        ner_after_parse = {  # parsed sentences whose entities can change the actors
            (pos, index)
            for pos, article in enumerate(articles)
            for index in self.actors.sentences_where_ner_counts(article, docs[pos], spans[pos], tagged[pos])
        }
        # NER runs last in the pipeline and reads nothing the other components set, so running it afterwards on
        # the parsed sentences that need it annotates them as the full pipeline would.
        self._recognise([parsed[pos][index] for pos, index in parse if (pos, index) in ner_after_parse])
        found = [self.actors.resolve(a, docs[pos], spans[pos], parsed[pos]) for pos, a in enumerate(articles)]
        events = [
            code_article_events(
                self.events, a, parsed[pos], found[pos].mentions, found[pos].actors, fallback_date, signers[pos]
            )
            for pos, a in enumerate(articles)
        ]
        self._locate(events, parsed, ner_after_parse)
        results = []
        for pos, article in enumerate(articles):
            commitments = code_commitments(
                events[pos], article.text, article.sentences, country_counts(found[pos].mentions), found[pos].actors
            )
            results.append(
                ArticleResult(
                    found[pos].mentions, found[pos].actors, [e.row() for e in events[pos]], commitments,
                    sum(doc.has_annotation("DEP") for doc in parsed[pos].values()),  # NER-only ones are not parsed
                )
            )
        return results

    def _recognise(self, docs: list[Doc]) -> None:
        """NER on already parsed sentences, in place."""
        for _ in self.components["ner"].pipe(iter(docs), batch_size=SENTENCE_BATCH):
            pass

    def _locate(
        self, events: list[list[CodedEvent]], parsed: list[dict[int, Doc]], recognised: set[tuple[int, int]]
    ) -> None:
        """An event's location comes from the entities of its sentence: the sentences that hold an event but have
        not been through NER get it now if they may name a place, and their events the location the full pipeline
        would have given. Not exact by construction: a "place" NER finds in lower-case words ("in red states") is
        skipped. On 950 corpus releases the test ran NER late on 501 sentences instead of 1,415, and of the 294
        locations found without it one differed, "red states" (README, Throughput)."""
        held = {(pos, e.sentence_index) for pos, found in enumerate(events) for e in found} - recognised
        # A place is a name after "in" or "at" (`may_name_place`); without one the location stays empty.
        late = sorted(key for key in held if may_name_place(parsed[key[0]][key[1]]))
        self._recognise([parsed[pos][index] for pos, index in late])
        located = set(late)
        for pos, found in enumerate(events):
            for k, event in enumerate(found):
                if (pos, event.sentence_index) in located:
                    place, country = coder_location(self.events, parsed[pos][event.sentence_index])
                    found[k] = replace(event, location=place, location_country=country)


def country_counts(mentions: list[Mention]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in mentions:
        if len(m.actor_id) == 3:
            counts[m.actor_id] = counts.get(m.actor_id, 0) + 1
    return counts


def actor_row(info: ActorInfo) -> dict:
    return asdict(info)
