"""The event coder's data: trigger lexicon (`data/event_lexicon.yaml`) and CAMEO table (`data/cameo.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
QUAD_CLASS = {
    "AGREE": 1, "CONSULT": 1, "SUPPORT": 1, "CONCEDE": 1,
    "COOPERATE": 2, "AID": 2, "RETREAT": 2,
    "REQUEST": 3, "ACCUSE": 3, "REJECT": 3, "THREATEN": 3,
    "PROTEST": 4, "SANCTION": 4, "MOBILIZE": 4, "COERCE": 4, "ASSAULT": 4,
}  # fmt: skip
# Irregular verb forms, so the cheap pre-filter finds "met", "held", "sent" before any parsing.
IRREGULAR = {
    "meet": ["met"], "hold": ["held"], "send": ["sent"], "give": ["gave", "given"], "strike": ["struck"],
    "fight": ["fought"], "shoot": ["shot"], "seek": ["sought"], "speak": ["spoke", "spoken"], "lead": ["led"],
    "take": ["took", "taken"], "bring": ["brought"], "make": ["made"], "undertake": ["undertook", "undertaken"],
    "withdraw": ["withdrew", "withdrawn"], "freeze": ["froze", "frozen"], "tell": ["told"], "win": ["won"],
    "sell": ["sold"], "lend": ["lent"], "spend": ["spent"], "build": ["built"], "begin": ["began", "begun"],
    "wage": ["waged"], "shake": ["shook"], "forgive": ["forgave", "forgiven"], "hit": ["hit"], "cut": ["cut"],
    "set": ["set"], "put": ["put"], "beat": ["beat", "beaten"], "break": ["broke", "broken"], "drive": ["drove"],
    "swear": ["swore", "sworn"], "see": ["saw", "seen"], "keep": ["kept"], "lay": ["laid"], "lose": ["lost"],
}  # fmt: skip


@dataclass(frozen=True)
class Trigger:
    lemma: str
    type: str
    cameo: str
    pos: str  # verb or noun
    future: bool = False
    commitment: str | None = None
    context: tuple[str, ...] = ()
    mode: str | None = None
    target_preps: tuple[str, ...] = ()
    particle: str | None = None
    complement: str | None = None
    source_from: tuple[str, ...] = ()
    target_from: tuple[str, ...] = ()
    prep_override: dict = field(default_factory=dict, hash=False, compare=False)
    objects: tuple[str, ...] = ()  # a verb entry only for these object lemmas ("block" a road is a protest)
    objects_excluded: frozenset[str] = frozenset()


@dataclass
class Lexicon:
    verbs: dict[str, list[Trigger]]
    nouns: dict[str, Trigger]
    cameo: dict[str, dict]
    support_verbs: frozenset[str]
    future_markers: frozenset[str]
    negation_markers: frozenset[str]
    hypothetical_markers: frozenset[str]
    reporting_verbs: frozenset[str]
    topic_verbs: frozenset[str]
    future_remap: dict[str, dict[str, str]]
    surface_forms: frozenset[str]
    # Common nouns for unnamed groups of people ("rebels", "demonstrators"): the country they act in stands for them.
    group_nouns: frozenset[str] = frozenset()
    # Nouns whose trigger compound names the act ("mediation effort").
    frame_nouns: frozenset[str] = frozenset()
    # Weapons that stand for an unnamed attacker ("a roadside bomb killed ..."), resolved like the groups.
    weapon_nouns: frozenset[str] = frozenset()

    def goldstein(self, code: str) -> float:
        entry = self.cameo.get(code) or self.cameo.get(code[:3]) or self.cameo[code[:2] + "0"]
        return float(entry["goldstein"])


def _inflections(lemma: str) -> set[str]:
    forms = {lemma, lemma + "s", lemma + "es", lemma + "ed", lemma + "d", lemma + "ing", *IRREGULAR.get(lemma, [])}
    if lemma.endswith("e"):
        forms.add(lemma[:-1] + "ing")
    if lemma.endswith("y"):
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied"}
    if len(lemma) > 2 and lemma[-1] not in "aeiouwy" and lemma[-2] in "aeiou":
        forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}
    return forms


def _trigger(entry: dict, pos: str) -> Trigger:
    return Trigger(
        lemma=entry["lemma"], type=entry["type"], cameo=str(entry["cameo"]), pos=pos,
        future=bool(entry.get("future")), commitment=entry.get("commitment"),
        context=tuple(entry.get("context") or ()), mode=entry.get("mode"),
        target_preps=tuple(entry.get("target_preps") or ()), particle=entry.get("particle"),
        complement=entry.get("complement"), source_from=tuple(entry.get("source_from") or ()),
        target_from=tuple(entry.get("target_from") or ()), prep_override=entry.get("prep_override") or {},
        objects=tuple(entry.get("objects") or ()),
        objects_excluded=frozenset(entry.get("objects_excluded") or ()),
    )  # fmt: skip


@cache
def load_lexicon() -> Lexicon:
    raw = yaml.load((DATA_DIR / "event_lexicon.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    cameo = yaml.load((DATA_DIR / "cameo.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    verbs: dict[str, list[Trigger]] = {}
    for entry in raw["verbs"]:
        verbs.setdefault(entry["lemma"], []).append(_trigger(entry, "verb"))
    nouns = {entry["lemma"]: _trigger(entry, "noun") for entry in raw["nouns"]}
    forms: set[str] = set()
    for lemma in [*verbs, *nouns]:
        forms |= _inflections(lemma.split()[-1])  # a phrase ("hunger strike") is found by its head word
    return Lexicon(
        verbs=verbs, nouns=nouns, cameo={str(c["code"]): c for c in cameo},
        support_verbs=frozenset(raw["support_verbs"]), future_markers=frozenset(raw["future_markers"]),
        negation_markers=frozenset(raw["negation_markers"]),
        hypothetical_markers=frozenset(raw["hypothetical_markers"]),
        reporting_verbs=frozenset(raw["reporting_verbs"]), topic_verbs=frozenset(raw["topic_verbs"]),
        future_remap={k: {str(a): str(b) for a, b in v.items()} for k, v in raw["future_remap"].items()},
        surface_forms=frozenset(forms), group_nouns=frozenset(raw.get("group_nouns") or ()),
        frame_nouns=frozenset(raw.get("frame_nouns") or ()),
        weapon_nouns=frozenset(raw.get("weapon_nouns") or ()),
    )  # fmt: skip
