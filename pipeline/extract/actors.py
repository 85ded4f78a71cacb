"""Actor extraction: the project dictionary matched on spaCy tokens, plus the spaCy NER model for
persons and organisations the dictionary does not know, with their country and office read from
the surrounding title ("Israeli National Security Advisor Tzachi Hanegbi", "President Iohannis of Romania").
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from pipeline.extract.gazetteer import ActorInfo, Alias, Gazetteer, Title, slugify
from pipeline.normalize import Article, stable_hash

# A capital after one of these words is a place ("a meeting in Paris"), not its government.
PLACE_WORDS = frozenset(
    {
        "in",
        "to",
        "from",
        "at",
        "near",
        "via",
        "into",
        "outside",
        "across",
        "around",
        "visit",
        "visited",
        "visiting",
        "visits",
        "toward",
        "towards",
        "through",
        "between",
        "and",
        "of",
    }
)
# A region is an actor only as a bloc ("European allies", "African countries", "the West"); a bare region
# name ("in Europe", "the Indo-Pacific") is a place.
BLOC_NOUNS = frozenset(
    {
        "allies",
        "countries",
        "nations",
        "states",
        "partners",
        "governments",
        "powers",
        "capitals",
        "democracies",
        "leaders",
        "members",
        "counterparts",
        "neighbors",
        "neighbours",
    }
)
# Named organisations the model finds are kept when their name says what kind of body they are; forums and
# working groups ("Climate Working Group", "U.S.-EU Energy Council") are not actors of their own.
ORG_KEYWORDS = frozenset(
    {
        "Commission",
        "Party",
        "Front",
        "Movement",
        "Brigade",
        "Brigades",
        "Militia",
        "Organization",
        "Organisation",
        "Agency",
        "Foundation",
        "Federation",
        "Authority",
    }
)
# Government departments and ministries stand for their country, which the dictionary already codes.
ORG_EXCLUDED = frozenset(
    {
        "Department",
        "Ministry",
        "Office",
        "Administration",
        "Secretariat",
        "House",
        "Cabinet",
        "Embassy",
        "Government",
        "University",
        "Press",
        "Post",
        "News",
        "Times",
    }
)
# Words that make a name the model reads as a person's the name of a thing: a law, a programme, a prize, a place
# ("Strategic Plan", "Malcolm Baldrige Award", "Border Patrol", "Bristol Bay"). Common surnames are left out.
NOT_PERSON_WORDS = ORG_KEYWORDS | ORG_EXCLUDED | frozenset(
    {
        "Act", "Plan", "Program", "Programme", "Initiative", "Strategy", "Project", "Fund", "Award", "Awards",
        "Prize", "Medal", "Patrol", "Service", "Services", "Corps", "Council", "Committee", "Caucus", "Summit",
        "Forum", "Institute", "Association", "Coalition", "Alliance", "Network", "Company", "Corporation",
        "Knowledge", "Bay", "River", "Lake", "Island", "Islands", "Canyon", "Canyons", "Monument", "County",
    }
)  # fmt: skip
# Tokens that can sit inside a person's name between two capitalised words.
_NAME_JOINERS = frozenset({"-", ".", "'"})
_NAME_PARTICLES = frozenset(
    {"von", "van", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "bin", "ibn", "al", "el", "ben"}
)
# Honorifics the model takes into a name; "The" only as in "The Honorable"; "Q" marks a question in transcripts.
_NAME_PREFIXES = frozenset(
    {"Mr.", "Mrs.", "Ms.", "Dr.", "Sir", "Dame", "Lord", "Mr", "Mrs", "Ms", "Dr", "Honorable", "Hon.", "Q"}
)


@dataclass(frozen=True)
class Mention:
    article_id: str
    actor_id: str
    sentence_index: int
    char_start: int
    char_end: int
    text: str

    @property
    def mention_id(self) -> str:
        return stable_hash("mention", self.article_id, str(self.char_start), str(self.char_end), self.actor_id)


@dataclass
class ArticleActors:
    mentions: list[Mention] = field(default_factory=list)
    actors: dict[str, ActorInfo] = field(default_factory=dict)


class ActorExtractor:
    """Finds actor mentions in articles. Build once per process (it holds the spaCy model)."""

    def __init__(self, nlp: Language, gazetteer: Gazetteer):
        self.nlp = nlp
        self.gazetteer = gazetteer
        self.alias_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._alias_by_key: dict[int, Alias] = {}
        for surface, alias in sorted(gazetteer.aliases.items()):
            key = nlp.vocab.strings.add("ALIAS:" + surface)
            self._alias_by_key[key] = alias
            self.alias_matcher.add("ALIAS:" + surface, [nlp.make_doc(surface)])
        self.title_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._title_by_key: dict[int, Title] = {}
        for surface, title in sorted(gazetteer.titles.items()):
            key = nlp.vocab.strings.add("TITLE:" + surface)
            self._title_by_key[key] = title
            self.title_matcher.add("TITLE:" + surface, [nlp.make_doc(surface)])

    def sentences_needing_ner(self, article: Article, doc: Doc, spans: list[tuple[Span, Alias | Title]]) -> set[int]:
        """Sentences with a capitalised name the dictionary does not cover: only these go to the NER model."""
        covered = {i for span, _ in spans for i in range(span.start, span.end)}
        return {
            s.index
            for s in article.sentences
            if _has_unknown_name(doc.char_span(s.start, s.end, alignment_mode="expand"), covered)
        }

    def sentences_where_ner_counts(
        self, article: Article, doc: Doc, spans: list[tuple[Span, Alias | Title]], tagged: dict[int, Doc]
    ) -> set[int]:
        """Of the tagged (parsed) sentences, those whose NER entities can change the actors found (`resolve`): with
        an uncovered name of two words or more that the tagger reads as proper nouns (a sentence's first word
        included), a capitalised word right after a title ("President Brevik"), a word that names a kind of
        organisation, or an ambiguous alias the GPE label settles. Elsewhere every entity is covered by the
        dictionary, too short to be kept, or a surname `resolve` finds without it."""
        covered = {i for span, _ in spans for i in range(span.start, span.end)}
        after_title = {span.end for span, entry in spans if isinstance(entry, Title)}
        ambiguous = {span.start for span, entry in spans if isinstance(entry, Alias) and entry.ambiguous}
        found = set()
        for index, sent_doc in tagged.items():
            start = article.sentences[index].start
            sent = doc.char_span(start, article.sentences[index].end, alignment_mode="expand")
            proper = {start + t.idx for t in sent_doc if t.pos_ == "PROPN"}  # character offsets in the article
            if sent is not None and (
                any(sent.start <= i < sent.end for i in ambiguous)
                or _may_hold_new_actor(sent, covered, after_title, proper)
            ):
                found.add(index)
        return found

    def resolve(
        self, article: Article, doc: Doc, spans: list[tuple[Span, Alias | Title]], parsed: dict[int, Doc]
    ) -> ArticleActors:
        """Mentions of one article from its dictionary matches and the entities of its parsed sentences."""
        entities = [
            (article.sentences[i].start + e.start_char, article.sentences[i].start + e.end_char, e.label_)
            for i, sent_doc in parsed.items()
            for e in sent_doc.ents
            if e.label_ in ("PERSON", "ORG", "GPE")
        ]
        return self._resolve(article, doc, spans, entities)

    def dictionary_spans(self, doc: Doc) -> list[tuple[Span, Alias | Title]]:
        """Longest dictionary matches ("Taiwan Strait" blocks "Taiwan"). Titles and aliases are matched apart,
        so the title "NATO Secretary General" does not hide the mention of NATO inside it."""
        out: list[tuple[Span, Alias | Title]] = []
        for matcher, entries in ((self.alias_matcher, self._alias_by_key), (self.title_matcher, self._title_by_key)):
            spans = [Span(doc, start, end, label=key) for key, start, end in matcher(doc)]
            out.extend((span, entries[span.label]) for span in filter_spans(spans))
        return sorted(out, key=lambda item: (item[0].start, item[0].end))

    def _resolve(
        self, article: Article, doc: Doc, spans: list[tuple[Span, Alias | Title]], entities: list[tuple[int, int, str]]
    ) -> ArticleActors:
        starts = [s.start for s in article.sentences]
        result = ArticleActors()
        gpe = {e for e in entities if e[2] == "GPE"}
        entities = [e for e in entities if e[2] != "GPE"]
        g = self.gazetteer
        found: list[tuple[int, int, str, bool]] = []  # char_start, char_end, actor_id, ambiguous
        titles_at: dict[int, tuple[Span, Title]] = {}  # token index just after a title -> the title
        title_starts: dict[int, Span] = {}
        for span, entry in spans:
            if isinstance(entry, Title):
                titles_at[span.end] = (span, entry)
                title_starts[span.start] = span
                continue
            if entry.actor_id is None:
                continue
            if entry.kind == "capital" and not _capital_is_government(doc, span):
                continue
            if entry.actor_id.startswith("REG:") and not _is_bloc(doc, span):
                continue
            # An ambiguous name ("Turkey", "Georgia") the model reads as a country needs no corroboration.
            read_as_place = (span.start_char, span.end_char, "GPE") in gpe and not entry.ambiguous_place
            ambiguous = entry.ambiguous and not read_as_place
            found.append((span.start_char, span.end_char, entry.actor_id, ambiguous))
        covered = {i for span, _ in spans for i in range(span.start_char, span.end_char)}
        surnames = {g.actors[a].name.split()[-1]: a for _, _, a, _ in found if a.startswith("PER:")}
        # Title + surname for people whose surname alone is too common ("President Harris").
        for end, (_title_span, _) in titles_at.items():
            if end < len(doc) and doc[end].text in g.titled_surnames:
                pid = g.titled_surnames[doc[end].text]
                found.append((doc[end].idx, doc[end].idx + len(doc[end].text), pid, False))
                surnames.setdefault(doc[end].text, pid)
        new_actors: dict[str, ActorInfo] = {}
        # Longer names first, so "Yemi Osinbajo" is known before a later bare "Osinbajo".
        for start, end, label in sorted(entities, key=lambda e: (-(e[1] - e[0]), e[0])):
            if any(i in covered for i in range(start, end)):
                continue
            entity = doc.char_span(start, end, alignment_mode="contract")
            if entity is None or len(entity) == 0:
                continue
            if label == "PERSON":
                resolved = self._person(doc, entity, titles_at, title_starts, surnames, new_actors)
            else:
                resolved = self._organisation(doc, entity, new_actors)
            if resolved is not None:
                name_span, actor_id = resolved
                found.append((name_span.start_char, name_span.end_char, actor_id, False))
                covered.update(range(name_span.start_char, name_span.end_char))
        # A bare surname after the full name is the same person ("President Tomas Brevik ... Brevik said").
        for token in _tokens_spelled(doc, surnames):
            if _is_name_case(token) and token.idx not in covered:
                found.append((token.idx, token.idx + len(token.text), surnames[token.text], False))
        _country_from_sentence(new_actors, found, starts)
        unambiguous = {a for _, _, a, amb in found if not amb}
        for start, end, actor_id, ambiguous in sorted(set(found)):
            if ambiguous and actor_id not in unambiguous:
                continue
            pos = bisect.bisect_right(starts, start) - 1
            if pos < 0 or end > article.sentences[pos].end:
                continue  # headings and titles are not sentences: no provenance, no mention
            result.mentions.append(Mention(article.article_id, actor_id, pos, start, end, article.text[start:end]))
            result.actors[actor_id] = new_actors.get(actor_id) or g.actors[actor_id]
        return result

    def _person(
        self,
        doc: Doc,
        span: Span,
        titles_at: dict[int, tuple[Span, Title]],
        title_starts: dict[int, Span],
        surnames: dict[str, str],
        new_actors: dict[str, ActorInfo],
    ) -> tuple[Span, str] | None:
        # Strip a title or honorific the model included in the name.
        while len(span) > 1:
            if span[0].text in _NAME_PREFIXES or (span[0].lower_ == "the" and span[1].text == "Honorable"):
                span = doc[span.start + 1 : span.end]
            elif span.start in title_starts and title_starts[span.start].end < span.end:
                span = doc[title_starts[span.start].end : span.end]
            else:
                break
        while len(span) > 1 and span[-1].text in ("'s", "’s"):
            span = doc[span.start : span.end - 1]
        if not all(t.is_alpha or t.text in ("-", ".", "'") or "-" in t.text for t in span):
            return None
        if any(t.text in NOT_PERSON_WORDS for t in span):
            return None
        surname = span[-1].text
        if surname in surnames:
            return span, surnames[surname]
        if surname in self.gazetteer.titled_surnames and span.start in titles_at:
            return span, self.gazetteer.titled_surnames[surname]
        title_entry = titles_at.get(span.start)
        if len(span) < 2 and title_entry is None:
            return None  # a bare unknown name is too weak a signal
        name = span.text
        pid = "PER:" + slugify(name)
        if pid == "PER:":
            return None
        title = title_entry[1] if title_entry else None
        country, affiliation = self._context_country(doc, title_entry[0].start if title_entry else span.start, span.end)
        if title and title.affiliation_id:
            affiliation = title.affiliation_id
        new_actors[pid] = ActorInfo(
            pid,
            name,
            "person",
            country_code=country,
            affiliation_id=affiliation or country,
            sector=title.sector if title else None,
            title=title.title if title else None,
        )
        surnames[surname] = pid
        return span, pid

    def _organisation(self, doc: Doc, span: Span, new_actors: dict[str, ActorInfo]) -> tuple[Span, str] | None:
        if span[0].lower_ == "the":
            span = doc[span.start + 1 : span.end]
        words = {t.text for t in span}
        if len(span) < 2 or not words & ORG_KEYWORDS or words & ORG_EXCLUDED:
            return None
        if not all(t.is_alpha or t.text in ("-", "&") for t in span):
            return None  # "Delegation of Authority Under Section 506(a)(1" is a document title
        if any(isinstance(entry, Alias) and entry.actor_id for _, entry in self.dictionary_spans(_window(span))):
            return None  # a body named after countries ("U.S.-EU Energy Council") is their forum, not an actor
        oid = "ORG:" + slugify(span.text)
        country, affiliation = self._context_country(doc, span.start, span.end)
        new_actors[oid] = ActorInfo(oid, span.text, "organization", country_code=country, affiliation_id=affiliation)
        return span, oid

    def _context_country(self, doc: Doc, start: int, end: int) -> tuple[str | None, str | None]:
        """Country (or IGO) named right before a title or name ("U.K. Prime Minister", "Israel's",
        "NATO Secretary General") or right after it ("of Nigeria"): (country_code, affiliation_id)."""
        before_end = start - 1 if start > 0 and doc[start - 1].text in ("'s", "’s") else start
        before = doc[max(0, before_end - 4) : before_end]
        for span, entry in reversed(self.dictionary_spans(_window(before)) if len(before) else []):
            if span.end == len(before) and isinstance(entry, Alias):
                found = self._country_or_igo(entry.actor_id)
                if found != (None, None):
                    return found
        after = doc[end : min(len(doc), end + 5)]
        if len(after) >= 2 and after[0].lower_ == "of":
            for span, entry in self.dictionary_spans(_window(after)):
                if span.start in (1, 2) and isinstance(entry, Alias):  # "of Norway", "of the United States"
                    return self._country_or_igo(entry.actor_id)
        return None, None

    def _country_or_igo(self, actor_id: str | None) -> tuple[str | None, str | None]:
        info = self.gazetteer.actors.get(actor_id) if actor_id else None
        if info is None:
            return None, None
        if info.actor_type == "country":
            return info.actor_id, info.actor_id
        if info.actor_type == "igo":
            return None, info.actor_id
        return None, None


def _tokens_spelled(doc: Doc, words: Iterable[str]) -> list[Token]:
    """The doc's tokens spelled as one of `words`, in order, found on the array of spellings (a Token object for
    each word of a long article costs more than the rest of `resolve`)."""
    ids = [get_string_id(w) for w in words]
    if not ids:
        return []
    return [doc[int(i)] for i in numpy.flatnonzero(numpy.isin(doc.to_array(ORTH), ids))]


def _window(span: Span) -> Doc:
    """A few tokens as a doc of their own, for the dictionary (which matches on the words alone). `Span.as_doc`
    would read the whole article's token array for each one."""
    return Doc(span.doc.vocab, words=[t.text for t in span], spaces=[bool(t.whitespace_) for t in span])


def _country_from_sentence(
    new_actors: dict[str, ActorInfo], found: list[tuple[int, int, str, bool]], starts: list[int]
) -> None:
    """A person or organisation the dictionary does not know, with no country beside its name, acts for the one
    country its sentence names ("President Laurent Gbagbo ... the Ivory Coast"); with two or more, it stays
    unplaced."""
    sentence_of = {start: bisect.bisect_right(starts, start) - 1 for start, _, _, _ in found}
    countries: dict[int, set[str]] = {}
    for start, _, actor_id, ambiguous in found:
        if len(actor_id) == 3 and not ambiguous:
            countries.setdefault(sentence_of[start], set()).add(actor_id)
    placed: set[str] = set()
    for start, _, actor_id, _ in sorted(found):
        info = new_actors.get(actor_id)
        if info is None or actor_id in placed or info.country_code or info.affiliation_id:
            continue
        placed.add(actor_id)  # only the sentence that introduces it
        named = countries.get(sentence_of[start], set())
        if len(named) == 1:
            [country] = named
            new_actors[actor_id] = replace(info, country_code=country, affiliation_id=country)


def _capital_is_government(doc: Doc, span: Span) -> bool:
    """ "Moscow said" is Russia; "in Moscow", "the Paris Agreement", "Beijing Olympics" are not."""
    if span.start > 0 and doc[span.start - 1].lower_ in PLACE_WORDS | {"the"}:
        return False
    return not (span.end < len(doc) and doc[span.end].is_title)


def _is_bloc(doc: Doc, span: Span) -> bool:
    if span[-1].lower_ in BLOC_NOUNS or span[0].lower_ == "the":
        return True
    return span.end < len(doc) and doc[span.end].lower_ in BLOC_NOUNS


def _may_hold_new_actor(sent: Span, covered: set[int], after_title: set[int], proper: set[int]) -> bool:
    """Whether an entity the NER model may find in the sentence can become an actor in `resolve`: two name words
    in a row that the tagger reads as proper nouns (`proper`: their character offsets), possibly joined by a
    hyphen, a full stop or a particle ("Jean-Pierre", "Ursula von der Leyen"), words in capitals excepted (a
    transcript's "MS. PSAKI:" or "Q"); a capitalised word right after a title; or an organisation word
    ("Commission on Elections")."""
    name_before = False  # a proper name word earlier in the current run of name words and joiners
    for token in sent:
        if token.i in covered:
            name_before = False
            continue
        text = token.text
        if text in ORG_KEYWORDS:
            return True
        is_name = text[:1].isupper() and (token.is_alpha or "-" in text)
        if is_name and token.i in after_title:
            return True
        if is_name and token.idx in proper and not token.is_upper:
            if name_before:
                return True
            name_before = True
        elif not (text in _NAME_JOINERS or token.lower_ in _NAME_PARTICLES):
            name_before = False
    return False


def _is_name_case(token: Token) -> bool:
    """Capitalised as a name: "Brevik", and "McCarthy" or "DelBene", but not a word in capitals ("BREVIK:")."""
    return token.is_title or (token.is_alpha and token.text[:1].isupper() and not token.is_upper)


def _has_unknown_name(sent: Span | None, covered: set[int]) -> bool:
    """Two adjacent capitalised words, not at the sentence start, that the dictionary did not match."""
    if sent is None:
        return False
    previous_title = False
    for token in sent:
        is_name = token.is_title and token.is_alpha and token.i not in covered and token.i != sent.start
        if is_name and previous_title:
            return True
        previous_title = is_name
    return False
