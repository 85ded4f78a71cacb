"""Event coding from spaCy dependency parses: PLOVER type and CAMEO code from the trigger lexicon, sources
from subjects (agents of passives, conjunctions, collectives resolved to actors named before), targets from
objects and prepositional recipients, nominal events ("Russia's invasion of Ukraine"), modality from the verb
chain. One event per distinct act in an article: a restatement adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from spacy.strings import get_string_id
from spacy.tokens import Doc, Token

from pipeline.extract.dates import resolve_date
from pipeline.extract.gazetteer import ActorInfo, Gazetteer, affiliation_of
from pipeline.extract.lexicon import QUAD_CLASS, Lexicon, Trigger
from pipeline.normalize import stable_hash

SUBJECTS = ("nsubj", "nsubjpass", "csubj")
OBJECTS = ("dobj", "dative", "attr", "oprd")
# Subjects that stand for actors named earlier: "the coalition", "the allies", "the two leaders", "they".
COLLECTIVE_HEADS = frozenset(
    {
        "coalition",
        "allies",
        "leaders",
        "sides",
        "countries",
        "nations",
        "partners",
        "governments",
        "parties",
        "members",
        "they",
        "both",
        "we",
        "delegations",
        "ministers",
        "officials",
        "counterparts",
        "states",
    }
)
# Of those, the words for the sides of the meeting last reported ("the leaders condemned ...").
MEETING_SIDES = frozenset({"leaders", "sides", "both", "delegations", "counterparts", "ministers"})
PERSON_PRONOUNS = frozenset({"he", "she"})
# "I" in a signed presidential document (a memorandum, an order, a proclamation) is its signer.
SIGNER_PRONOUN = "i"
OFFICE_HEADS = frozenset(
    {
        "president",
        "minister",
        "secretary",
        "chancellor",
        "premier",
        "king",
        "leader",
        "ambassador",
        "advisor",
        "adviser",
        "general",
    }
)
# Meeting verbs whose object is the other side ("will host Prime Minister Starmer"), not a topic ("discussed Iran").
GUEST_VERBS = frozenset({"meet", "host", "visit", "receive", "call", "phone", "telephone", "welcome"})
# A trip to a gathering of an organisation ("travel to Madrid for the NATO Summit") is a visit to that
# organisation, not to the host country.
GATHERING_NOUNS = frozenset({"summit", "meeting", "conference", "ministerial", "assembly", "forum"})
# Conflict acts named by a noun often leave the victim to the sentence ("stand with Ukraine against Russia's
# invasion"): the one country of the sentence that takes no other part in it.
NOMINAL_CONFLICT_TYPES = frozenset({"ASSAULT", "COERCE", "THREATEN", "MOBILIZE"})
# "the Administration", "his government": the government of the person or country named before.
GOVERNMENT_HEADS = frozenset({"administration", "government"})
# Every word that can stand for an actor named before: a sentence holding one can hold an event.
STAND_IN_WORDS = COLLECTIVE_HEADS | PERSON_PRONOUNS | OFFICE_HEADS | GOVERNMENT_HEADS
# Cooperative acts are never aimed at their own source; conflictual ones often are (a government arresting its
# own citizens), and protests or repression with no target named are.
# Modal verbs that turn reported speech into a demand: "Iraq must cooperate", "Israel should ease".
DEMAND_MODALS = frozenset({"must", "should"})
SELF_TARGET_EXCLUDED = frozenset({"AGREE", "CONSULT", "SUPPORT", "COOPERATE", "AID"})
DOMESTIC_BY_DEFAULT = frozenset({"PROTEST", "COERCE"})
PROMISE_TYPES = frozenset({"AGREE", "AID"})
# Confidence of an event whose sources are stand-ins resolved to actors named before ("the leaders").
RESOLVED_CONFIDENCE = 0.6
# Verbal evaluations, told apart by what they are about.
EVALUATION_TYPES = frozenset({"SUPPORT", "ACCUSE"})
# Promises and endorsements whose object can imply whom they are for (commitments.yaml, implied_recipients).
IMPLIED_TARGET_TYPES = frozenset({"AGREE", "SUPPORT"})
# Suffixes undone, in order, when the model's lemma is not a lexicon word: (suffix, replacement).
INFLECTIONS = (("ied", "y"), ("ies", "y"), ("ing", "e"), ("ing", ""), ("ed", ""), ("d", ""), ("es", ""), ("s", ""))
INFLECTION_CACHE_LIMIT = 200_000  # words remembered by `EventCoder._inflection_of`; emptied when full
# "with the U.K. and France taking a leading role": the actors who actually act.
LEADING_VERBS = frozenset({"take", "play", "lead", "spearhead", "head"})
# "Hungary said it will support ...": a pronoun subject of a reported clause is the actor who speaks.
REPORTED_PRONOUNS = frozenset({"it", "they", "he", "she", "we"})
# The prepositions before an event's location ("talks in Oslo", "a rally at the Kremlin").
PLACE_PREPOSITIONS = frozenset({"in", "at"})
# Where an unnamed group acts: "rebels in Chad", "protesters at a jail in Dili".
LOCATION_PREPS = frozenset({"in", "at", "near", "outside", "across", "throughout", "inside", "of", "from"})
# "will not accept", "would not meet": a stated refusal to cooperate is a rejection (CAMEO 12).
FUTURE_AUX = frozenset({"will", "would", "shall", "wo"})
NEGATIONS = frozenset({"not", "n't"})
REFUSAL = Trigger(lemma="refuse", type="REJECT", cameo="120", pos="verb")
# "will withdraw its troops unless ...": an act made conditional on the other side's doing is an ultimatum.
ULTIMATUM = Trigger(lemma="unless", type="THREATEN", cameo="139", pos="verb")


@dataclass
class ActorSpanIndex:
    """Actor ids by token position in one parsed sentence."""

    by_token: dict[int, str] = field(default_factory=dict)

    def actors_in(self, tokens) -> list[str]:
        out: list[str] = []
        for t in tokens:
            actor = self.by_token.get(t.i)
            if actor and actor not in out:
                out.append(actor)
        return out


@dataclass
class CodedEvent:
    event_id: str
    article_id: str
    sentence_index: int
    char_start: int
    char_end: int
    evidence: str
    trigger: str
    event_type: str
    event_mode: str | None
    context: list[str]
    cameo_code: str
    cameo_root: str
    quad_class: int
    goldstein: float
    source_actor_ids: list[str]
    target_actor_ids: list[str]
    location: str | None
    location_country: str | None
    event_date: date
    modality: str
    confidence: float
    # Not published: what the commitment coder needs.
    commitment_status: str | None = None
    object_text: str = ""
    promised_type: str = ""  # the act's own type before a promise made it AGREE ("pledged to work together")

    def row(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in UNPUBLISHED_FIELDS}


UNPUBLISHED_FIELDS = frozenset({"commitment_status", "object_text", "promised_type"})


class ArticleContext:
    """What the coder remembers while reading one article: persons and actors seen, the last event."""

    def __init__(
        self, actors: dict[str, ActorInfo], signer: list[str] | None = None, offices: frozenset[str] = frozenset()
    ):
        self.actors = actors
        self.signer = signer or []
        self.offices = offices  # national offices, lower case ("secretary of state"): see `resolve_collective`
        self.persons_seen: list[str] = []
        self.actors_seen: list[str] = []
        self.last_participants: list[str] = []
        self.last_source_person: list[str] = []
        self.last_meeting: list[str] = []

    def see(self, actor_ids: list[str]) -> None:
        for a in actor_ids:
            self.actors_seen.append(a)
            if a.startswith("PER:"):
                self.persons_seen.append(a)

    def resolve_collective(self, head: Token, index: ActorSpanIndex | None = None) -> list[str]:
        word = head.lower_
        if word == SIGNER_PRONOUN:
            return list(self.signer)
        if word in PERSON_PRONOUNS:  # "he": who last acted, else who was last named
            return self.last_source_person[-1:] or self.persons_seen[-1:]
        if word in OFFICE_HEADS:
            title = " ".join(t.text for t in head.subtree if t.is_alpha and t.lower_ != "the").lower()
            for pid in reversed(self.persons_seen):
                info = self.actors.get(pid)
                # "the U.S. President" holds the title "President"; "the Secretary General" is part of the title
                # "NATO Secretary General".
                if info and info.title and (
                    info.title.lower() in title or set(title.split()) <= set(info.title.lower().split())
                ):
                    return [pid]
            if word == "president":
                return self.persons_seen[-1:]
            # An office named without its holder ("The Secretary of State will also rescind ...") acts for the
            # government the article is about, as "the Administration" does.
            return self._government(head, None) if title in self.offices else []
        if word in GOVERNMENT_HEADS:
            return self._government(head, index)
        if word in MEETING_SIDES and self.last_meeting:  # "the two leaders": who met
            return list(self.last_meeting)
        if word in COLLECTIVE_HEADS:
            if self.last_participants:
                return list(self.last_participants)
            recent = [a for a in self.actors_seen[-8:] if not a.startswith("PER:")]
            return list(dict.fromkeys(recent))
        return []


    def _government(self, head: Token, index: ActorSpanIndex | None) -> list[str]:
        """The country whose government "the Administration" is: a possessor's ("his Administration"), else the
        speaker's ("Harris said the Administration will ..."), else that of the last person named."""
        owners: list[str] = []
        if any(c.dep_ == "poss" and c.lower_ in ("his", "her") for c in head.children):
            owners = self.last_source_person[-1:] or self.persons_seen[-1:]
        elif index is not None:
            for verb in head.head.ancestors:
                owners = index.actors_in(t for c in verb.children if c.dep_ in SUBJECTS for t in c.subtree)
                if owners:
                    break
        for aid in owners or list(reversed(self.persons_seen)):
            country = affiliation_of(aid, self.actors)
            if len(country) == 3:  # a country code: the government acts for the country
                return [country]
        return []


class EventCoder:
    def __init__(self, lexicon: Lexicon, gazetteer: Gazetteer):
        self.lexicon = lexicon
        self.gazetteer = gazetteer
        self._known = set(lexicon.verbs) | set(lexicon.support_verbs) | set(lexicon.nouns)
        # Last words of phrase entries ("hunger strike" -> "strike"): only these look at their modifiers.
        self._phrase_heads = frozenset(known.rsplit(" ", 1)[-1] for known in self._known if " " in known)
        self._inflected: dict[str, str | None] = {}  # word -> the lexicon word it inflects, found once per word
        self._form_ids = frozenset(get_string_id(form) for form in lexicon.surface_forms)
        # Offices of a national government (titles.yaml entries that name no organisation), in lower case.
        self.national_offices = frozenset(
            surface.lower() for surface, title in gazetteer.titles.items() if title.affiliation_id is None
        )

    def _lemma(self, token: Token) -> str:
        """The token's lemma, or the lexicon word its inflection comes from when the model's lemma is wrong
        ("staged" -> "stag")."""
        lemma = token.lemma_.lower()
        if lemma in self._phrase_heads:  # a phrase entry ("hunger strike", "general strike") wins over its head
            for modifier in token.children:
                if modifier.dep_ in ("compound", "amod") and (phrase := f"{modifier.lower_} {lemma}") in self._known:
                    return phrase
        if lemma in self.lexicon.frame_nouns:  # "a mediation effort between ...": the effort is the mediation
            for modifier in token.children:
                named = modifier.lemma_.lower()
                # Cooperative acts only: "Russia's war effort" is the war as a whole, not an attack.
                entry = self.lexicon.nouns.get(named) if modifier.dep_ == "compound" else None
                if entry is not None and QUAD_CLASS[entry.type] <= 2:
                    return named
        if lemma in self._known:
            return lemma
        return self._inflection_of(token.lower_) or lemma

    def _inflection_of(self, word: str) -> str | None:
        """The lexicon word `word` is an inflection of, if any."""
        if word not in self._inflected:
            if len(self._inflected) >= INFLECTION_CACHE_LIMIT:
                self._inflected.clear()
            self._inflected[word] = next(
                (
                    stem
                    for suffix, ending in INFLECTIONS
                    if word.endswith(suffix) and (stem := word[: -len(suffix)] + ending) in self._known
                ),
                None,
            )
        return self._inflected[word]

    def signer(self, article) -> list[str]:
        """The person who signed the document, when its last line is a known person's name alone
        ("JOSEPH R. BIDEN JR." under a memorandum; a heading to the sentence splitter, so read from the text)."""
        alias = self.gazetteer.aliases.get(article.text.rstrip().rsplit("\n", 1)[-1].strip().strip("\u200b"))
        return [alias.actor_id] if alias and alias.actor_id and alias.actor_id.startswith("PER:") else []

    def is_candidate(self, word_ids: set[int]) -> bool:
        """Cheap pre-filter: a trigger word form occurs among the sentence's lower-case words (string ids)."""
        return not self._form_ids.isdisjoint(word_ids)

    # ------------------------------------------------------------------ one sentence

    def code_sentence(self, sent: Doc, index: ActorSpanIndex, ctx: ArticleContext) -> list[dict]:
        """Raw events of one parsed sentence: dicts with trigger token, type, code, sources, targets, modality."""
        lex = self.lexicon
        found: list[dict] = []
        consumed: set[int] = set()
        for token in sent:
            if token.i in consumed:
                continue
            lemma = self._lemma(token)
            if token.dep_ in ("amod", "compound"):
                event = None  # "protected facilities", "the attacked city": modifiers, not acts
            elif lemma in lex.reporting_verbs and (demand := self._reported_demand(token, index, ctx)):
                event = demand
                consumed.update(t.i for c in token.children if c.dep_ == "ccomp" for t in c.subtree)
            elif token.pos_ in ("VERB", "AUX") and (lemma in lex.verbs or lemma in lex.support_verbs):
                event = None if self._topic_of_talks(token) else self._verb_event(token, lemma, index, ctx, consumed)
            elif token.pos_ in ("NOUN", "PROPN") and lemma in lex.nouns:
                event = self._noun_event(token, lex.nouns[lemma], index, ctx)
            else:
                event = None
            if event:
                found.append(event)
        return found

    def _topic_of_talks(self, verb: Token) -> bool:
        """ "will discuss ... reaching a ceasefire", "discussed how the government can support ...": an act named
        in what talks are about has not happened. Nouns are left to `_noun_event` ("discussed Russia's war")."""
        child = verb
        for ancestor in verb.ancestors:
            if ancestor.pos_ == "VERB" and self._lemma(ancestor) in self.lexicon.topic_verbs:
                return child.dep_ in ("dobj", "prep", "ccomp")
            child = ancestor
        return False

    def _reported_demand(self, verb: Token, index: ActorSpanIndex, ctx: ArticleContext) -> dict | None:
        """ "X said (that) Y must do Z" is X demanding of Y (REQUEST); the act Z has not happened, so it is not
        coded on its own."""
        for clause in (c for c in verb.children if c.dep_ == "ccomp"):
            modal = {c.lemma_.lower() for c in clause.children if c.dep_ == "aux"}
            if not modal & DEMAND_MODALS:
                continue
            code = "100" if "must" in modal else "020"
            entry = Trigger(lemma=verb.lemma_.lower(), type="REQUEST", cameo=code, pos="verb")
            subjects = [c for c in clause.children if c.dep_ in SUBJECTS]
            event = self._build(verb, entry, verb, index, ctx)
            if event is None:
                return None
            targets = index.actors_in(t for s in subjects for t in s.subtree)
            event["targets"] = [a for a in targets if a not in event["sources"]] or event["targets"]
            event["modality"] = "asserted"
            return event
        return None

    def _pick_verb_entry(self, token: Token, lemma: str) -> Trigger | None:
        """The entry for this use of the verb: one limited to the verb's object ("block a road" is a protest), else
        the first whose particle fits and whose object is not excluded ("provided an update" gives nothing)."""
        entries = self.lexicon.verbs.get(lemma, [])
        objects = {c.lemma_.lower() for c in token.children if c.dep_ in OBJECTS}
        with_object = [e for e in entries if objects.intersection(e.objects)]
        if with_object:
            return with_object[0]
        entries = [e for e in entries if not e.objects and not self._object_excluded(token, e)]
        children = {c.lemma_.lower() for c in token.children if c.dep_ in ("prt", "prep", "advmod")}
        with_particle = [e for e in entries if e.particle and e.particle in children]
        if with_particle:
            return with_particle[0]
        # A phrasal verb is another word: "will never give up" gives nothing. "up to 16" is a quantity the parser
        # sometimes hangs on the verb as a particle.
        if any(c.dep_ == "prt" and not _quantity_up(c) for c in token.children):
            return None
        plain = [e for e in entries if not e.particle]
        return plain[0] if plain else None

    def _verb_event(
        self, token: Token, lemma: str, index: ActorSpanIndex, ctx: ArticleContext, consumed: set[int]
    ) -> dict | None:
        lex = self.lexicon
        entry = self._pick_verb_entry(token, lemma)
        # A light verb with a noun-trigger object codes the noun's event ("held talks", "imposed sanctions").
        # So does a planning or announcing verb with a conflictual act for object ("announced a suspension of").
        conflict_only = lemma not in lex.support_verbs and entry is not None and entry.complement == "defer"
        if lemma in lex.support_verbs or conflict_only:
            for obj in (c for c in token.children if c.dep_ in OBJECTS):
                noun_entry = lex.nouns.get(self._lemma(obj))
                if noun_entry is not None and (not conflict_only or QUAD_CLASS[noun_entry.type] >= 3):
                    consumed.add(obj.i)
                    noun_entry = _with_prep_override(obj, noun_entry)
                    event = self._build(token, noun_entry, obj, index, ctx, object_token=obj)
                    if event is not None and noun_entry.type == "REQUEST":
                        self._demanded_of(token, obj, event, index, consumed)
                    return event
        if entry is None or lemma in lex.reporting_verbs:
            return None
        if (
            any(c.dep_ == "ccomp" for c in token.children)
            and not any(c.dep_ in OBJECTS for c in token.children)
            and entry.complement is None
            and entry.type in ("COOPERATE", "SUPPORT", "CONSULT")
        ):
            return None  # "shared that ...", "noted that ...": the verb reports; the clause holds the act
        complements = [c for c in token.children if c.dep_ in ("xcomp", "ccomp") and self._is_trigger(c)]
        if complements and entry.complement == "defer" and any(self._has_actor(c, index, ctx) for c in complements):
            return None  # the complement is coded, with this verb's future and commitment passed down
        event = self._build(token, entry, token, index, ctx)
        if entry.complement == "absorb":
            consumed.update(c.i for c in complements)
        if event is not None and (entry.complement == "absorb" or entry.type == "REJECT"):
            # "demanded that Hamas renounce", "threatened to cut ties with Russia", "refused to meet Jordan's king":
            # aimed at whom the demanded, threatened or refused act concerns.
            content = (t for c in token.children if c.dep_ in ("xcomp", "ccomp") for t in c.subtree)
            _add_targets(event, index.actors_in(content))
        return event

    def _demanded_of(
        self, verb: Token, noun: Token, event: dict, index: ActorSpanIndex, consumed: set[int]
    ) -> None:
        """ "reiterated its demand that Israel ease restrictions": the demand is aimed at the clause's subject, and
        the demanded act, which has not happened, is not coded on its own. The parser hangs the clause on the noun
        or on its verb."""
        for clause in (c for h in (noun, verb) for c in h.children if c.dep_ in ("acl", "ccomp")):
            if not any(m.dep_ == "mark" and m.lower_ == "that" for m in clause.children):
                continue
            subjects = [c for c in clause.children if c.dep_ in SUBJECTS]
            _add_targets(event, index.actors_in(t for s in subjects for t in s.subtree))
            consumed.update(t.i for t in clause.subtree)

    def _object_excluded(self, verb: Token, entry: Trigger) -> bool:
        """Whether what the verb acts on rules the entry out: "provided an update" gives nothing, "signed an
        Executive Order" is no agreement with anyone."""
        if not entry.objects_excluded:
            return False
        things = [self._lemma(c) for c in verb.children if c.dep_ == "dobj"] + [
            self._lemma(o) for p in verb.children if p.dep_ == "prep" and p.lower_ == "with"
            for o in p.children if o.dep_ == "pobj"
        ]  # fmt: skip
        return any(t in entry.objects_excluded for t in things)

    def _has_actor(self, clause: Token, index: ActorSpanIndex, ctx: ArticleContext) -> bool:
        """Whether a complement clause has a subject that resolves to an actor ("agreed that their countries
        should cooperate" does not: the agreeing is coded instead)."""
        subjects = [c for c in clause.children if c.dep_ in SUBJECTS]
        if not subjects:
            return True  # shares the governing verb's subject
        return bool(
            index.actors_in(t for s in subjects for t in s.subtree)
            or self._speaker(subjects[0], index)
            or ctx.resolve_collective(subjects[0], index)
            or self._group_country(subjects[0], clause, index)
        )

    def _is_trigger(self, token: Token) -> bool:
        lemma = self._lemma(token)
        if lemma in self.lexicon.verbs and lemma not in self.lexicon.reporting_verbs:
            # A verb coded only for some objects ("establish ties") is no act with others ("establish hubs").
            entries = self.lexicon.verbs[lemma]
            return not all(e.objects for e in entries) or self._pick_verb_entry(token, lemma) is not None
        return lemma in self.lexicon.support_verbs and any(
            c.dep_ in OBJECTS and self._lemma(c) in self.lexicon.nouns for c in token.children
        )

    def _noun_event(self, token: Token, entry: Trigger, index: ActorSpanIndex, ctx: ArticleContext) -> dict | None:
        head = token.head
        if QUAD_CLASS[entry.type] <= 2:
            for ancestor in token.ancestors:
                entries = self.lexicon.verbs.get(self._lemma(ancestor), [])
                if ancestor.pos_ == "VERB" and entries and entries[0].type == "CONSULT":
                    # "discussed support for Ukraine": a topic of the talks; "to end Russia's invasion" still
                    # asserts the invasion.
                    return None
        head_lemma = self._lemma(head)
        if token.dep_ in OBJECTS and (
            head_lemma in self.lexicon.support_verbs
            or (head_lemma in self.lexicon.verbs and QUAD_CLASS[entry.type] <= 2)
        ):
            # Coded with its verb ("launched attacks", "signed an agreement"); but "condemned Russia's attacks"
            # holds two acts.
            return None
        entry = _with_prep_override(token, entry)
        sources = self._noun_roles(token, entry.source_from, index)
        if not sources:
            return None  # "the war", "threats to security": a noun alone names no act
        targets = [a for a in self._noun_roles(token, entry.target_from, index) if a not in sources]
        # A named hostile act or meeting is asserted whatever the governing verb says ("will discuss the crisis
        # caused by Russia's war", "the U.S.-EU Summit will begin"), unless only supposed ("if attacks resume");
        # aid named as a noun keeps its verb's modality ("will donate to NATO's assistance package").
        modality = self._modality(token, entry)
        if (QUAD_CLASS[entry.type] >= 3 or entry.type == "CONSULT") and modality != "hypothetical":
            modality = "asserted"
        event = self._finish(token, entry, token, sources, targets, modality, 0.55)
        event["object_text"] = " ".join(t.text for t in token.subtree)
        event["nominal"] = True
        return event

    def _noun_roles(self, token: Token, roles: tuple[str, ...], index: ActorSpanIndex) -> list[str]:
        out: list[str] = []
        for child in token.children:
            for role in roles:
                if _fills_role(child, role):
                    out += index.actors_in(child.subtree)
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------------ roles

    def _subject(self, verb: Token) -> tuple[list[Token], bool]:
        """The subject tokens of a verb, climbing through xcomp/conj/advcl/relcl; and whether it is passive."""
        current = verb
        came_from = ""
        for _ in range(6):
            subjects = [c for c in current.children if c.dep_ in SUBJECTS]
            passive = any(s.dep_ == "nsubjpass" for s in subjects)
            if current.dep_ == "relcl" and subjects and all(s.tag_ in ("WDT", "WP") for s in subjects):
                return [current.head], passive  # "groups that have killed ...": the noun "that" stands for
            if subjects:
                return subjects, passive
            participle = current.dep_ == "acl" and current.tag_ == "VBG" and self._names_agent(current.head)
            if current.dep_ == "relcl" or participle:
                return [current.head], False  # "demonstrators protesting the results": the noun it modifies
            # "is willing to send": through the adjective to the copula's subject, only from its infinitive.
            willing = current.dep_ == "acomp" and came_from == "xcomp"
            came_from = current.dep_
            climbs = willing or current.dep_ in ("xcomp", "conj", "advcl", "ccomp", "acl", "pcomp")
            if climbs and current.head is not current:
                current = current.head
                continue
            break
        return [], False

    def _build(
        self,
        token: Token,
        entry: Trigger,
        trigger_token: Token,
        index: ActorSpanIndex,
        ctx: ArticleContext,
        object_token: Token | None = None,
    ) -> dict | None:
        verb = token
        subjects, passive = self._subject(verb)
        sources: list[str] = []
        targets: list[str] = []
        confidence = 0.75
        agent = [c for c in verb.children if c.dep_ == "agent"]
        if passive and agent:
            sources = index.actors_in(t for a in agent for t in a.subtree)
            targets = index.actors_in(t for s in subjects for t in s.subtree)
            by = [c for a in agent for c in a.children if c.dep_ == "pobj"]
            if not sources and by:  # "killed by an improvised explosive device outside Basra"
                sources = self._group_country(by[0], verb, index, weapons=QUAD_CLASS[entry.type] == 4)
                sources = [a for a in sources if a not in targets] or sources
        else:
            for s in subjects:
                # A noun the verb's clause modifies ("demonstrators protesting ..."): its own words, not the clause's.
                clause = {t.i for t in verb.subtree} if s.is_ancestor(verb) else set()
                sources += self._ethnic_group_country(s, verb, index) or index.actors_in(
                    t for t in s.subtree if t.i not in clause
                )
            if not sources and subjects:
                leading = self._leading_actors(verb, index)
                sources = (
                    leading
                    or self._speaker(subjects[0], index)
                    # Two subjects are a misparse ("SUBJECT: Delegation of Authority ... I hereby delegate"):
                    # either may be the stand-in.
                    or next((found for s in subjects if (found := ctx.resolve_collective(s, index))), [])
                    or self._group_country(subjects[0], verb, index, weapons=QUAD_CLASS[entry.type] == 4)
                )
                confidence = RESOLVED_CONFIDENCE
        leading = self._leading_actors(verb, index)
        if leading and not [a for a in sources if a in leading]:
            sources = leading  # "the allies aim to ..., with the U.K. and France taking a leading role"
        sources = list(dict.fromkeys(sources))
        if not sources:
            return None
        obj_tokens: list[Token] = []
        noun_roles_filled = False
        for holder in [verb, *([object_token] if object_token is not None else [])]:
            for c in holder.children:
                # What is discussed is a topic, not a participant: meetings take targets only from "with".
                is_object = c.dep_ in OBJECTS and (entry.type != "CONSULT" or entry.lemma in GUEST_VERBS)
                is_recipient = c.dep_ == "prep" and c.lemma_.lower() in entry.target_preps
                # A noun's role phrase may hang off the light verb instead ("launched a mediation effort on
                # Saturday between A and B"): only a "between", which no light verb takes for itself.
                noun_target = (holder is object_token and any(_fills_role(c, r) for r in entry.target_from)) or (
                    object_token is not None and holder is verb and "prep_between" in entry.target_from
                    and _fills_role(c, "prep_between")
                )
                if is_object or is_recipient or noun_target:
                    obj_tokens.append(c)
                noun_roles_filled |= noun_target
        group_targets: list[str] = []
        for o in obj_tokens:
            if noun_roles_filled and object_token is not None and o.i == object_token.i:
                continue  # "expressed appreciation for Poland's support": the noun's own roles say whom it is for
            # A relative clause says more about the object, not whom the act is aimed at ("sanction Hamas, which
            # attacked Israel").
            relative = {t.i for r in o.subtree if r.dep_ == "relcl" for t in r.subtree}
            found = index.actors_in(t for t in o.subtree if t.i not in relative)
            if not found and entry.mode == "visit" and o.dep_ == "prep":
                found = self._countries_in(list(o.subtree), index)[:1]  # "arrived in Amman": the host country
            head = o if o.dep_ != "prep" else next((c for c in o.children if c.dep_ == "pobj"), o)
            if not found and QUAD_CLASS[entry.type] >= 3:  # "accused Darfur rebels": the rebels' country, maybe its own
                group_targets += self._group_country(head, verb, index)
            act = self.lexicon.nouns.get(self._lemma(head)) if head is not object_token else None
            doers = self._noun_roles(head, act.source_from, index) if act and QUAD_CLASS[act.type] >= 3 else []
            owner = [c for c in head.children if c.dep_ == "poss"] if head is not o or o.dep_ in OBJECTS else []
            if not doers and owner and entry.type in ("SUPPORT", "REJECT", "ACCUSE"):
                # "recognized the Prime Minister's decisive action to ensure Russia ...": whose action it is.
                doers = index.actors_in(owner[0].subtree) or (
                    ctx.resolve_collective(owner[0]) if owner[0].lower_ in OFFICE_HEADS else []
                )
            if doers:
                found = doers  # "condemned Russia's attack on Ukraine": aimed at who attacked, not at the victim
            if not found and head.lower_ in OFFICE_HEADS:
                found = ctx.resolve_collective(head)  # "thanked the Secretary General"
            targets += found
        if not targets and entry.type in ("AGREE", "AID", "COOPERATE", "SUPPORT", "MOBILIZE"):
            for c in verb.subtree:  # "military hubs in Ukraine": the country that benefits
                if c.dep_ == "prep" and c.lemma_.lower() in ("in", "for", "to") and c.i > verb.i:
                    targets += index.actors_in(c.subtree)
        if entry.mode == "visit" and (hosts := self._gathering_hosts(verb, index)):
            targets = hosts
        # A conflictual act may be aimed at the source's own side, named apart ("Serbian police arrested Serbian
        # opposition leaders"); a cooperative one is not.
        own_side_allowed = QUAD_CLASS[entry.type] >= 3
        targets = [a for a in dict.fromkeys(targets) if own_side_allowed or a not in sources]
        targets += [a for a in group_targets if a not in targets]
        if not targets and entry.type not in ("CONSULT", "COOPERATE"):
            # "threatened to institute a curfew in Algiers", "will evacuate settlements in the Gaza Strip": an act
            # with no one named is aimed at the country where it is to take place (meetings only take place there).
            place = self._countries_in([t for t in verb.subtree if t.i > verb.i], index)[:1]
            targets = [a for a in place if own_side_allowed or a not in sources]
        described = obj_tokens + [c for c in verb.children if c.dep_ == "xcomp"]
        object_text = _tokens_text(described)
        if verb.dep_ == "advcl" and any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children):
            from pipeline.extract.commitments import categorize  # commitments builds on these events

            means = [c for c in verb.head.children if c.dep_ == "dobj" and any(t.like_num for t in c.subtree)]
            if means and not categorize(object_text, topics=False):
                # A purpose clause naming nothing concrete gives what its governing verb acts on, when that is
                # counted or priced: "direct the drawdown of $350 million in defense articles ... to provide
                # assistance to Ukraine".
                object_text = _tokens_text(described + means)
        modality = self._modality(verb, entry)
        if QUAD_CLASS[entry.type] <= 2 and self._stated_refusal(verb):
            entry, modality = REFUSAL, "asserted"
            refused = index.actors_in(t for c in verb.children if c.dep_ in (*OBJECTS, "prep") for t in c.subtree)
            targets = targets or [a for a in refused if a not in sources]  # "will not accept Brazil's mediation"
        elif entry.type not in ("THREATEN", "REQUEST") and self._conditional_on_other(verb):
            entry, modality = ULTIMATUM, "asserted"
        event = self._finish(token, entry, trigger_token, sources, targets, modality, confidence)
        event["object_text"] = object_text
        event["topic"] = self._evaluated_thing(verb, index) if entry.type in EVALUATION_TYPES else None
        event["sources_named"] = confidence > RESOLVED_CONFIDENCE  # not "they", "the leaders" resolved from before
        return event

    def _evaluated_thing(self, verb: Token, index: ActorSpanIndex) -> str | None:
        """What praise or criticism is about: "thanked Romania for hosting" -> hosting, "applauded Romania's
        investments" -> investment."""
        for prep in (c for c in verb.children if c.dep_ == "prep" and c.lower_ == "for"):
            for thing in prep.children:
                if thing.dep_ in ("pobj", "pcomp"):
                    return thing.lemma_.lower()
        for obj in (c for c in verb.children if c.dep_ == "dobj"):
            if obj.i not in index.by_token:
                return obj.lemma_.lower()
        return None

    def _gathering_hosts(self, verb: Token, index: ActorSpanIndex) -> list[str]:
        """The organisations whose summit or meeting the trip is for ("for the 2022 NATO Summit")."""
        hosts: list[str] = []
        for t in verb.subtree:
            if t.lemma_.lower() in GATHERING_NOUNS and t.i > verb.i:
                modifiers = (c for c in t.children if c.dep_ in ("compound", "poss", "amod", "nmod"))
                named = index.actors_in(x for c in modifiers for x in c.subtree)
                hosts += [a for a in named if a.startswith("IGO:")]
        return list(dict.fromkeys(hosts))

    def _names_agent(self, noun: Token) -> bool:
        return noun.pos_ == "PROPN" or self._lemma(noun) in self.lexicon.group_nouns

    def _speaker(self, subject: Token, index: ActorSpanIndex) -> list[str]:
        """ "Hungary said it will support ...", "rebel leaders said they would ...": the actors subject of a verb
        governing the pronoun's clause."""
        if subject.lower_ not in REPORTED_PRONOUNS or subject.dep_ != "nsubj":
            return []
        clause = subject.head
        while clause.dep_ in ("xcomp", "conj") and clause.head.i != clause.i:
            clause = clause.head
        if clause.dep_ != "ccomp":
            return []
        speaker = clause.head
        if speaker.pos_ != "VERB" or not ({speaker.lemma_.lower()} & (self.lexicon.reporting_verbs | self._known)):
            return []  # "anyone supporting Russia is at risk": a copula's subject speaks for no one
        return index.actors_in(t for c in speaker.children if c.dep_ in SUBJECTS for t in c.subtree)

    def _group_country(self, subject: Token, verb: Token, index: ActorSpanIndex, weapons: bool = False) -> list[str]:
        """An unnamed group ("rebels", "demonstrators in Baghdad", "police") stands for the country it acts in,
        as CAMEO codes such agents: the place named with the group, else where the act happens, else the one
        country the sentence names."""
        group = subject
        for of in (c for c in subject.children if c.dep_ == "prep" and c.lower_ == "of"):  # "hundreds of students"
            group = next((c for c in of.children if c.dep_ == "pobj"), subject)
        kinds = self.lexicon.group_nouns | (self.lexicon.weapon_nouns if weapons else frozenset())
        if self._lemma(group) not in kinds:
            return []
        own = _place_tokens(subject) + [c for c in group.children if c.dep_ == "compound"]  # "Darfur rebels"
        for tokens in (own, _place_tokens(verb)):
            if found := self._countries_in(tokens, index):
                return found[:1]
        named = {a for a in index.by_token.values() if len(a) == 3}
        return sorted(named) if len(named) == 1 else []

    def _ethnic_group_country(self, subject: Token, verb: Token, index: ActorSpanIndex) -> list[str]:
        """ "Ethnic Albanians demonstrated in Serbia": an ethnic group acts for the country it lives in, when the
        sentence says where; its demonym names the people, not their kin state."""
        if not any(t.lower_ == "ethnic" for t in subject.subtree if t.i <= subject.i):
            return []
        for tokens in (_place_tokens(subject), _place_tokens(verb)):
            if found := self._countries_in(tokens, index):
                return found[:1]
        return []

    def _countries_in(self, tokens: list[Token], index: ActorSpanIndex) -> list[str]:
        """Countries named among the tokens, also as a capital or a known place ("in Baghdad", "in Hong Kong")."""
        g = self.gazetteer
        out: list[str] = []
        for t in tokens:
            country = index.by_token.get(t.i)
            if country is None:
                for width in (3, 2, 1):
                    name = t.doc[t.i : t.i + width].text
                    alias = g.aliases.get(name)
                    country = alias.actor_id if alias is not None and alias.kind == "capital" else None
                    # A city is a proper noun: "in the region" is no place, "in Police" (Poland) rarely is.
                    country = country or (g.place_country(name) if t.pos_ == "PROPN" else None)
                    if country:
                        break
            if country and len(country) == 3 and country not in out:
                out.append(country)
        return out

    def _stated_refusal(self, verb: Token) -> bool:
        """ "will not accept", "would not meet": a negated future cooperative act is stated as a refusal."""
        children = {c.lower_ for c in verb.children if c.dep_ in ("aux", "neg")}
        return bool(children & NEGATIONS and children & FUTURE_AUX)

    def _conditional_on_other(self, verb: Token) -> bool:
        """ "will withdraw ... unless the president arranges a ceasefire": an ultimatum."""
        return any(
            c.dep_ == "advcl" and any(m.dep_ == "mark" and m.lower_ == "unless" for m in c.children)
            for c in verb.children
        )

    def _leading_actors(self, verb: Token, index: ActorSpanIndex) -> list[str]:
        for prep in (c for c in verb.subtree if c.dep_ == "prep" and c.lower_ == "with"):
            for t in prep.subtree:
                if t.lemma_.lower() in LEADING_VERBS and t.pos_ == "VERB":
                    subj = [c for c in t.children if c.dep_ in SUBJECTS] or [t.head] if t.head is not t else []
                    actors = index.actors_in(x for s in subj for x in s.subtree if x.i < t.i)
                    if actors:
                        return actors
        return []

    def _modality(self, verb: Token, entry: Trigger) -> str:
        """From the lexicon's markers on the verb and the verbs governing it: "did not", "refused to" negate,
        "if", "could" make it hypothetical, "will", "plan to", "pledge to" make it future."""
        lex = self.lexicon
        chain = [verb, *list(verb.ancestors)[:4]]
        # A relative clause has its own tense: "will prosecute groups that have killed ..." did kill.
        cut = next((k for k, t in enumerate(chain) if t.dep_ == "relcl"), None)
        chain = chain if cut is None else chain[: cut + 1]
        modifiers = {
            c.lemma_.lower() for t in chain for c in t.children if c.dep_ in ("aux", "neg", "mark", "advmod", "auxpass")
        }
        governing = {t.lemma_.lower() for t in chain[1:]}  # the verb's own lemma says nothing of its modality
        words = modifiers | governing
        if entry.type != "REJECT" and words & lex.negation_markers:
            return "negated"
        if words & lex.hypothetical_markers:
            return "hypothetical"
        if entry.future or words & lex.future_markers:
            return "future"
        return "asserted"

    def _finish(
        self,
        token: Token,
        entry: Trigger,
        trigger_token: Token,
        sources: list[str],
        targets: list[str],
        modality: str,
        confidence: float,
    ) -> dict:
        event_type, code = entry.type, entry.cameo
        status = entry.commitment
        # A governing promise ("pledged to provide", "agreed to support") passes its commitment status down.
        for anc in list(token.ancestors)[:3]:
            lemma = self._lemma(anc)
            for e in self.lexicon.verbs.get(lemma, []):
                if e.complement == "defer" and not e.particle:
                    status = e.commitment or status
                    if e.future:
                        modality = "future" if modality == "asserted" else modality
                    break
        if modality == "future" and event_type in self.lexicon.future_remap:
            remap = self.lexicon.future_remap[event_type]
            code = remap.get(code, remap["default"])
            event_type = "AGREE"
        if status == "delivered" and modality == "future":
            status = "pledged"
        return {
            "token": token,
            "trigger": trigger_token.text,
            "type": event_type,
            "cameo": code,
            "mode": entry.mode,
            "context": list(entry.context),
            "sources": sources,
            "targets": targets,
            "modality": modality,
            "confidence": confidence,
            "status": status,
            "promised_type": entry.type,
        }

    # ------------------------------------------------------------------ one article

    def finalize(
        self,
        article_id: str,
        sentence_index: int,
        span: tuple[int, int],
        evidence: str,
        raw: dict,
        event_date: date,
        location: tuple[str | None, str | None],
    ) -> CodedEvent:
        code = raw["cameo"]
        mode = raw["mode"]
        if raw["type"] == "CONSULT" and mode is None and len(raw["sources"]) + len(raw["targets"]) >= 3:
            mode = "multilateral"
        event_id = stable_hash(
            "event",
            article_id,
            str(sentence_index),
            str(raw["token"].i),
            raw["type"],
            ",".join(raw["sources"]),
            ",".join(raw["targets"]),
        )
        return CodedEvent(
            event_id=event_id, article_id=article_id, sentence_index=sentence_index, char_start=span[0],
            char_end=span[1], evidence=evidence, trigger=raw["trigger"], event_type=raw["type"], event_mode=mode,
            context=sorted(set(raw["context"])), cameo_code=code, cameo_root=code[:2],
            quad_class=QUAD_CLASS[raw["type"]], goldstein=self.lexicon.goldstein(code),
            source_actor_ids=raw["sources"], target_actor_ids=raw["targets"], location=location[0],
            location_country=location[1], event_date=event_date, modality=raw["modality"],
            confidence=raw["confidence"], commitment_status=raw["status"], object_text=raw.get("object_text", ""),
            promised_type=raw["promised_type"],
        )  # fmt: skip


def _with_prep_override(token: Token, entry: Trigger) -> Trigger:
    """The noun entry as its preposition changes it ("a call for" is REQUEST, "a protest with" ACCUSE)."""
    for child in token.children:
        if child.dep_ == "prep" and child.lemma_.lower() in entry.prep_override:
            override = entry.prep_override[child.lemma_.lower()]
            entry = Trigger(
                **{**entry.__dict__, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in override.items()}}
            )
    return entry


def _place_tokens(token: Token) -> list[Token]:
    """The words of the token's place phrases: "rebels in Chad", "demonstrated outside the embassy"."""
    return [p for c in token.children if c.dep_ == "prep" and c.lower_ in LOCATION_PREPS for p in c.subtree]


def _add_targets(event: dict, actors: list[str]) -> None:
    """Adds actors to an event's targets, once each and never one of its sources."""
    event["targets"] = list(dict.fromkeys(event["targets"] + [a for a in actors if a not in event["sources"]]))


def _fills_role(child: Token, role: str) -> bool:
    """Whether a child of a nominal trigger fills a role of the lexicon: poss, amod, compound or prep_X."""
    if role.startswith("prep_"):
        return child.dep_ == "prep" and child.lemma_.lower() == role[5:]
    return child.dep_ == role


def code_article_events(
    coder: EventCoder,
    article,
    parsed: dict[int, Doc],
    mentions,
    actors: dict[str, ActorInfo],
    fallback_date: date,
    signer: list[str],
) -> list[CodedEvent]:
    """Events of one article, in sentence order, one per distinct (type, source and target affiliations, and for
    promises and aid the kind of thing promised). `signer` is who "I" is (`EventCoder.signer`)."""
    from pipeline.extract.commitments import categorize, implied_recipient  # commitments builds on these events

    ctx = ArticleContext(actors, signer, coder.national_offices)
    by_sentence: dict[int, list] = {}
    for m in mentions:
        by_sentence.setdefault(m.sentence_index, []).append(m)
    published = article.published_at.date() if article.published_at else None
    seen: set[tuple] = set()
    events: list[CodedEvent] = []
    for sentence in article.sentences:
        sent_mentions = by_sentence.get(sentence.index, [])
        doc = parsed.get(sentence.index)
        if doc is not None and doc.has_annotation("DEP"):  # NER-only sentences hold no event
            index = ActorSpanIndex()
            for m in sent_mentions:
                span = doc.char_span(
                    m.char_start - sentence.start, m.char_end - sentence.start, alignment_mode="expand"
                )
                if span is not None:
                    for t in span:
                        index.by_token[t.i] = m.actor_id
            evidence = article.text[sentence.start : sentence.end]
            when = resolve_date(evidence, published) or published or fallback_date
            location = coder_location(coder, doc)
            coded = coder.code_sentence(doc, index, ctx)
            _fill_unnamed_victims(coder, doc, coded, index, actors)
            for raw in coded:  # a country that stands for an unnamed group ("rebels in Chad") is an actor too
                for a in raw["sources"] + raw["targets"]:
                    if a not in actors and a in coder.gazetteer.actors:
                        actors[a] = coder.gazetteer.actors[a]
            for raw in coded:
                own = {affiliation_of(a, actors) for a in raw["sources"]}
                if raw["type"] in SELF_TARGET_EXCLUDED:  # "the United States' commitment" is not aid to itself
                    raw["targets"] = [a for a in raw["targets"] if affiliation_of(a, actors) not in own]
                elif raw["type"] in DOMESTIC_BY_DEFAULT and not raw["targets"]:
                    # Protests and repression with no one named are aimed at the country's own government.
                    raw["targets"] = sorted(a for a in own if len(a) == 3)
                if raw["type"] in IMPLIED_TARGET_TYPES and not raw["targets"]:
                    # "reaffirmed the commitment to collective defense under Article 5": a promise to NATO.
                    raw["targets"] = implied_recipient(evidence)
                sources = frozenset(affiliation_of(a, actors) for a in raw["sources"])
                targets = frozenset(affiliation_of(a, actors) for a in raw["targets"])
                if raw["type"] in ("CONSULT", "COOPERATE"):  # symmetric: who meets whom is one set
                    sources, targets = sources | targets, frozenset()
                    if len(sources) < 2:
                        continue  # one side alone neither meets nor cooperates: the other was not resolved
                # Promises and aid of different things are different acts ("$627 million", "defense").
                promised = (
                    frozenset(c for c, _ in categorize(raw.get("object_text", "")))
                    if raw["type"] in PROMISE_TYPES
                    else None
                )
                # The CAMEO code tells verbal acts of one type apart: thanking (051) is not condoling (018); a war
                # named again ("invasion", then "aggression") is the same material act.
                act = raw["cameo"] if QUAD_CLASS[raw["type"]] <= 3 else None
                # Praise of one thing is not praise of another: thanking Romania for hosting troops, then applauding
                # its defense investments, are two acts.
                key = (raw["type"], sources, targets, promised, act, raw.get("topic"))
                # A restatement adds nothing: the same act, or an act of that type and kind by the same sources with
                # its target left unsaid.
                if key in seen or (not targets and any(k[:2] == key[:2] and k[3] == promised for k in seen)):
                    continue
                seen.add(key)
                event = coder.finalize(
                    article.article_id, sentence.index, (sentence.start, sentence.end), evidence, raw, when, location
                )
                events.append(event)
                acting_persons = [a for a in raw["sources"] if a.startswith("PER:")]
                ctx.last_source_person = acting_persons[-1:] or ctx.last_source_person
                if raw["type"] == "CONSULT":
                    ctx.last_meeting = list(dict.fromkeys(raw["sources"] + raw["targets"]))
                if QUAD_CLASS[raw["type"]] <= 2:  # "the coalition", "the allies": who last cooperated
                    ctx.last_participants = list(
                        dict.fromkeys(raw["sources"] + (raw["targets"] if raw["type"] == "CONSULT" else []))
                    )
        ctx.see([m.actor_id for m in sent_mentions])
    return events


def _fill_unnamed_victims(
    coder: EventCoder, doc: Doc, coded: list[dict], index: ActorSpanIndex, actors: dict[str, ActorInfo]
) -> None:
    named = list(dict.fromkeys(index.by_token.values()))
    # Who acts, the doers of acts named by nouns even when uncoded ("discussed Germany's support to Ukraine"), and
    # the countries of the people named ("U.K. Prime Minister Keir Starmer") are not bystanders.
    people = [a for a in named if a.startswith(("PER:", "ORG:"))]
    doers = [
        a for t in doc if t.pos_ == "NOUN" and (entry := coder.lexicon.nouns.get(t.lemma_.lower()))
        for a in coder._noun_roles(t, entry.source_from, index)
    ]  # fmt: skip
    acting = {a for raw in coded if raw.get("sources_named", True) for a in raw["sources"]}
    taking_part = acting | {affiliation_of(a, actors) for a in people} | set(doers)
    bystanders = [a for a in named if len(a) == 3 and a not in taking_part]
    for raw in coded:
        if raw["type"] in NOMINAL_CONFLICT_TYPES and not raw["targets"] and raw.get("nominal") and len(bystanders) == 1:
            raw["targets"] = bystanders


def _quantity_up(token: Token) -> bool:
    """ "up" of "up to 16"."""
    return token.lower_ == "up" and token.i + 1 < len(token.doc) and token.doc[token.i + 1].lower_ == "to"


def _tokens_text(heads: list[Token]) -> str:
    """The words of the phrases under these tokens, in order, each once (a noun's own recipients are in its
    subtree already: "sanctions against Russia")."""
    return " ".join(t.text for t in sorted({t for h in heads for t in h.subtree}, key=lambda t: t.i))


def coder_location(coder: EventCoder, doc: Doc) -> tuple[str | None, str | None]:
    """The first place named after "in"/"at" ("a meeting in Paris"), with its country when the dictionary knows it."""
    g = coder.gazetteer
    for ent in doc.ents:
        if ent.label_ in ("GPE", "LOC", "FAC") and ent.start > 0 and doc[ent.start - 1].lower_ in PLACE_PREPOSITIONS:
            name = ent.text[4:] if ent.text.startswith("the ") else ent.text
            alias = g.aliases.get(name)
            country = g.place_country(name)
            if alias is not None and alias.actor_id and len(alias.actor_id) == 3:
                country = alias.actor_id
            return name, country
    return None, None


def may_name_place(doc: Doc) -> bool:
    """Whether `coder_location` can find a place in the sentence: a word that is not all lower case ("Paris",
    "U.S.", "2021") right after "in"/"at" or after "in the"/"at the". A place is a name, so a sentence without
    one ("in the morning", "at a time") needs no NER for its location."""
    for i, token in enumerate(doc[:-1]):
        if token.lower_ in PLACE_PREPOSITIONS:
            following = doc[i + 1]
            if following.lower_ == "the" and i + 2 < len(doc):
                following = doc[i + 2]
            if not following.is_lower:
                return True
    return False
