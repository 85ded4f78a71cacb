"""Commitments from the events that express a promise, guarantee, agreement, signature, ratification or aid
given: one per distinct thing promised, with donors, recipients, category, amount, status and conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipeline.extract.events import CodedEvent
from pipeline.extract.gazetteer import ActorInfo, affiliation_of
from pipeline.normalize import stable_hash

DATA_FILE = Path(__file__).resolve().parent / "data" / "commitments.yaml"
COMMITTING_TYPES = ("AGREE", "SUPPORT", "AID", "SANCTION")
STATUS_BY_TYPE = {"AID": "delivered", "SUPPORT": "signed", "SANCTION": "pledged", "AGREE": "pledged"}


@dataclass(frozen=True)
class CommitmentRules:
    categories: list[dict]
    currencies: dict[str, str]
    multipliers: dict[str, float]
    condition: re.Pattern
    ratification: re.Pattern
    time_horizon: re.Pattern
    amount: re.Pattern
    implied_recipients: dict[str, str]
    local_dollars: dict[str, str]
    dollar_symbols: frozenset[str]
    valued: re.Pattern
    money_source: re.Pattern
    aid_words: re.Pattern
    anaphoric_value: re.Pattern
    given_with: re.Pattern
    direct_share: re.Pattern
    giving: re.Pattern


@cache
def load_rules() -> CommitmentRules:
    raw = yaml.load(DATA_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    currencies = {str(k): v for k, v in raw["currencies"].items()}
    multipliers = {str(k): float(v) for k, v in raw["multipliers"].items()}
    symbol = "|".join(re.escape(c) for c in sorted(currencies, key=len, reverse=True))
    mult = "|".join(sorted(multipliers, key=len, reverse=True))
    number = r"\d+(?:[.,]\d+)*"
    amount = re.compile(
        rf"(?:(?P<pre>{symbol})\s?(?P<n1>{number})\s?(?P<m1>{mult})?\.?(?!\w)"
        rf"|(?P<n3>{number})\s?(?P<mid>{symbol})\s?(?P<m3>{mult})\.?(?!\w)"  # "15 EUR million", Kiel style
        rf"|(?P<n2>{number})\s?(?P<m2>{mult})?\.?\s?(?P<post>{symbol})(?!\w))"
    )
    openers = "|".join(re.escape(o) for o in sorted(raw["condition_openers"], key=len, reverse=True))
    return CommitmentRules(
        categories=raw["categories"], currencies=currencies, multipliers=multipliers,
        condition=re.compile(rf"\b(?:{openers})\b[^.;]*", re.I),
        ratification=re.compile(r"\b(?:" + "|".join(raw["ratification_words"]) + r")\b[^.;]*", re.I),
        time_horizon=re.compile("|".join(raw["time_horizon_patterns"]), re.I), amount=amount,
        implied_recipients=raw.get("implied_recipients") or {},
        local_dollars=raw["local_dollars"], dollar_symbols=frozenset(raw["dollar_symbols"]),
        valued=re.compile(r"\b(?:" + "|".join(raw["value_openers"]) + r")\s+(?:(?:up to|about|around|approximately|"
                          r"almost|nearly|over|some|roughly|an estimated)\s+)?", re.I),
        money_source=re.compile("|".join(raw["money_source_patterns"]), re.I),
        anaphoric_value=re.compile(raw["anaphoric_value_pattern"], re.I),
        given_with=re.compile(raw["given_with_pattern"], re.I),
        direct_share=re.compile(raw["direct_share_pattern"]),
        giving=re.compile(raw["giving_pattern"], re.I),
        aid_words=re.compile(r"\b(?:" + "|".join(raw["unpurposed_aid_words"]) + r")\b"),
    )  # fmt: skip


def implied_recipient(text: str) -> list[str]:
    """The recipient a promise implies when it names none ("collective defense under Article 5" -> NATO)."""
    lowered = text.lower()
    return [r for phrase, r in load_rules().implied_recipients.items() if phrase in lowered][:1]


def _words_pattern(words: list[str], patterns: list[str] | None = None) -> re.Pattern:
    """Any of the words as a whole word, plural allowed ("guarantee" matches "guarantees"; "facilit*" any
    ending), or any of the regular expressions."""
    alternatives = [
        re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) + r"(?:e?s)?\b" for w in words
    ] + list(patterns or [])
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")") if alternatives else re.compile(r"(?!)")


@dataclass(frozen=True)
class Category:
    name: str
    subtypes: list[tuple[str, re.Pattern]]
    words: re.Pattern
    topic_words: re.Pattern
    priced_words: re.Pattern
    unpriced_words: re.Pattern
    civil_use: re.Pattern
    suppressed_by: frozenset[str]
    yields_to: frozenset[str]
    topic_yields_to: frozenset[str]


@cache
def _categories() -> dict[str, Category]:
    """Compiled once, by name in the data file's order: categorize runs for every event."""
    categories = [
        Category(
            cat["category"],
            [(name, _words_pattern(words)) for name, words in (cat.get("subtypes") or {}).items()],
            _words_pattern(cat.get("words") or [], cat.get("patterns")),
            _words_pattern(cat.get("topic_words") or []),
            _words_pattern([], cat.get("priced_patterns")),
            _words_pattern(cat.get("unpriced_words") or []),
            _words_pattern(cat.get("civil_use") or []),
            frozenset(cat.get("suppressed_by") or ()),
            frozenset(cat.get("yields_to") or ()),
            frozenset(cat.get("topic_yields_to") or ()),
        )
        for cat in load_rules().categories
    ]
    return {c.name: c for c in categories}


def _plain(text: str) -> str:
    """Lower case, with the parser's token spacing undone ("de - mining", "Ukraine 's") so that words match."""
    return re.sub(r"\s+(?=['’]s\b)", "", re.sub(r"(?<=\w) - (?=\w)", "-", text.lower()))


def categorize(text: str, topics: bool = True, priced: bool = False) -> list[tuple[str, str | None]]:
    """Every (category, subtype) whose words occur in `text`, in the data file's order. With `topics` false, a
    category's topic words ("defense") do not count; `priced` (an amount is stated) decides whether a
    category's priced or unpriced words count ("a €100 million guarantee" is money, not protection). A
    category found without a subtype gives way to the categories that suppress it ("commitment to Japan's
    defense"); one found by topic words alone to the categories of its `topic_yields_to` named by their words;
    one found without its own `words` to a civil use ("training of civil aviation pilots"). Where money comes
    from ("from tariff revenues") says nothing of what it is for."""
    lowered = load_rules().money_source.sub(" ", _plain(text))
    found: list[tuple[str, str | None, str]] = []
    rules = _categories()
    for category in rules.values():
        subtype = next((name for name, pattern in category.subtypes if pattern.search(lowered)), None)
        worded = bool(category.words.search(lowered)) or bool(
            (category.priced_words if priced else category.unpriced_words).search(lowered)
        )
        if subtype or worded:
            if worded or not category.civil_use.search(lowered):
                found.append((category.name, subtype, "words"))
        elif topics and category.topic_words.search(lowered):
            found.append((category.name, None, "topic"))
    names = {name for name, _, _ in found}
    named = {name for name, _, how in found if how == "words"}
    return [
        (name, subtype)
        for name, subtype, how in found
        if not (
            names & rules[name].yields_to
            or (subtype is None and names & rules[name].suppressed_by)
            or (how == "topic" and named & rules[name].topic_yields_to)
        )
    ]


def parse_amount(text: str) -> tuple[float | None, str | None]:
    value, currency, _ = _amount(text)
    return value, currency


def _amount(text: str, at_start: bool = False) -> tuple[float | None, str | None, str | None]:
    """The first amount of money in `text` (with `at_start`, only one that opens it): value, ISO currency, and
    the symbol as written ("$")."""
    rules = load_rules()
    for m in rules.amount.finditer(text):
        if at_start and m.start() > 0:
            break
        number = m.group("n1") or m.group("n2") or m.group("n3")
        mult = m.group("m1") or m.group("m2") or m.group("m3")
        symbol = m.group("pre") or m.group("post") or m.group("mid")
        if not number or (not mult and float(number.replace(",", "")) < 1000):
            continue  # "$5" alone is rarely the commitment; "$200 million" is
        value = (
            float(number.replace(",", ""))
            if number.count(",") != 1 or len(number.split(",")[1]) == 3
            else float(number.replace(",", "."))
        )
        return value * rules.multipliers.get(mult or "", 1.0), rules.currencies[symbol], symbol
    return None, None, None


def _stated_value(evidence: str) -> tuple[float | None, str | None, str | None]:
    """The value a sentence puts on the thing ("equipment ... worth up to CZK 700 million", "in the total amount
    of 150 million euros") when the promised object itself names none."""
    for m in load_rules().valued.finditer(evidence):
        found = _amount(evidence[m.end() : m.end() + 40], at_start=True)
        if found[0] is not None:
            return found
    return None, None, None


def _quantity(text: str) -> int | None:
    m = re.search(
        r"\b(\d{1,6})\s+(?:[A-Z][\w-]*\s+){0,3}(?:systems?|tanks?|vehicles?|carriers?|howitzers?|"
        r"launchers?|aircraft|jets?|helicopters?|missiles?|drones?|rounds?|shells?|batteries)\b",
        text,
    )
    return int(m.group(1)) if m else None


def code_commitments(
    events: list[CodedEvent],
    text: str,
    sentences,
    country_counts: dict[str, int] | None = None,
    actors: dict[str, ActorInfo] | None = None,
) -> list[dict]:
    """Commitments of one article. `country_counts` (mentions per country) names the recipient of a commitment
    whose sentence names none ("provided 697 million EUR of military aid"): the country other than the donors
    that the article names more often than any other."""
    rules = load_rules()
    rows: list[dict] = []
    for event in events:
        if event.event_type not in COMMITTING_TYPES:
            continue
        delivered = event.event_type == "AID"
        # What was promised is the event's object; the whole sentence only for aid given ("sent 40 tanks") or when
        # the sentence states an amount ("€30 million was announced for ...").
        # An announcement with no object announces its clause when that clause gives something ("announced that
        # €250 million would go to a fund to provide military equipment").
        announced = (
            event.promised_type == "AGREE"
            and event.commitment_status is not None
            and rules.giving.search(event.evidence) is not None
        )
        object_text = event.object_text or (
            event.evidence if delivered or announced or parse_amount(event.evidence)[0] is not None else ""
        )
        if not delivered and not categorize(object_text, topics=False):
            # "support Ukraine with anti-ship missiles": the thing given is the "with" phrase, not the object.
            object_text += " " + " ".join(rules.given_with.findall(event.evidence))
        # The amount of the thing promised, not another figure of the sentence ("noting it has given $7 billion"),
        # else the value the sentence puts on it ("equipment worth CZK 700 million").
        amount, currency, symbol = _amount(object_text)
        if amount is None:
            amount, currency, symbol = _stated_value(event.evidence)
        # A plan or promise counts when it names something concrete ("aim to establish military hubs"); a promise
        # to cooperate or consult names no thing given unless the sentence puts money on it ("pledged to mobilize
        # €30 million to purchase ...").
        if amount is None and not delivered and event.promised_type in ("COOPERATE", "CONSULT"):
            amount, currency, symbol = _amount(event.evidence)
            if amount is None:
                continue
        priced = amount is not None
        categories = categorize(object_text, topics=delivered or priced, priced=priced)
        if not categories and delivered:
            categories = categorize(event.evidence, priced=priced)
        future = event.modality == "future"
        promised = event.commitment_status or (future and (categories or event.event_type == "SANCTION"))
        if not delivered and not promised:
            continue
        if not categories and amount is not None:
            # "$100 million in humanitarian assistance": the "in" phrase often hangs off the verb, not the amount.
            categories = categorize(event.evidence, priced=True) or [_unpurposed_money(object_text)]
        if event.event_type == "SANCTION":
            categories = [("sanctions", None)]
        status = event.commitment_status or STATUS_BY_TYPE[event.event_type]
        if event.event_type == "AID" and event.modality == "asserted":
            status = "delivered"
        recipients = (
            event.target_actor_ids
            or _same_sentence_targets(event, events)
            or implied_recipient(event.evidence)
            or _main_recipient(event.source_actor_ids, country_counts or {}, actors or {})
        )
        recipients = recipients + _beneficiary(event, recipients, country_counts or {}, actors or {})
        currency = _local_dollar(symbol, event.source_actor_ids, actors or {}) or currency
        condition = rules.condition.search(event.evidence)
        horizon = rules.time_horizon.search(event.evidence)
        for category, subtype in categories:
            rows.append({
                "commitment_id": stable_hash("commitment", event.event_id, category, subtype or ""),
                "event_id": event.event_id, "article_id": event.article_id,
                "sentence_index": event.sentence_index, "char_start": event.char_start, "char_end": event.char_end,
                "evidence": event.evidence, "donor_actor_ids": event.source_actor_ids,
                "recipient_actor_ids": recipients, "category": category, "subtype": subtype,
                "description": object_text.strip() or event.evidence, "items": None,
                "quantity": _quantity(event.evidence), "amount": amount if category == "financial" or amount else None,
                "currency": currency if amount is not None else None, "status": status,
                "conditions": condition.group(0).strip() if condition else None,
                "time_horizon": horizon.group(0) if horizon else None, "announced_date": event.event_date,
                "confidence": round(event.confidence * 0.9, 3),
            })  # fmt: skip
    rows = _one_per_thing(rows, actors or {})
    _values_stated_after(rows, text, sentences)
    _direct_shares(rows, text, sentences, actors or {})
    _ratification_conditions(rows, text, sentences, rules)
    return rows


def _one_per_thing(rows: list[dict], actors: dict[str, ActorInfo]) -> list[dict]:
    """One commitment per distinct thing promised in a sentence: several verbs of one sentence naming the same
    donors' aid of one category and status ("will provide $100 million in humanitarian assistance to assist the
    people") are one commitment, the one that states an amount, with every recipient named. A promise and a
    delivery in one sentence stay two."""
    kept: dict[tuple, dict] = {}
    for row in rows:
        donors = frozenset(affiliation_of(d, actors) for d in row["donor_actor_ids"])
        key = (row["sentence_index"], donors, row["category"], row["status"])
        first = kept.get(key)
        if first is None:
            kept[key] = row
            continue
        main, other = (row, first) if first["amount"] is None and row["amount"] is not None else (first, row)
        main["recipient_actor_ids"] = list(dict.fromkeys(main["recipient_actor_ids"] + other["recipient_actor_ids"]))
        kept[key] = main
    return list(kept.values())


def _values_stated_after(rows: list[dict], text: str, sentences) -> None:
    """A sentence that only puts a value on the aid just announced ("The assistance is worth 160 million EUR.",
    "Only the package value, amounting to EUR 55.6 million, is known") gives that amount to the commitments
    without one of the latest sentence before it that has commitments, at most two sentences back."""
    with_rows = {row["sentence_index"] for row in rows}
    for sentence in sentences:
        announced = [i for i in (sentence.index - 1, sentence.index - 2) if i in with_rows][:1]
        if sentence.index in with_rows or not announced:
            continue
        evidence = text[sentence.start : sentence.end]
        m = load_rules().anaphoric_value.search(evidence)
        amount, currency, _ = _amount(evidence[m.end() :]) if m else (None, None, None)
        if amount is None:
            continue
        for row in rows:
            if row["sentence_index"] == announced[0] and row["amount"] is None:
                row["amount"], row["currency"] = amount, currency


def _direct_shares(rows: list[dict], text: str, sentences, actors: dict[str, ActorInfo]) -> None:
    """The amount to a recipient is the part stated to go to it directly, not a total shared with others:
    "$100 million ... for Ukraine and its neighbours. $59.3 million are allocated directly to Ukraine." gives the
    commitments to Ukraine of the two sentences before it $59.3 million."""
    rules = load_rules()
    names = {info.name: code for code, info in actors.items() if info.actor_type == "country"}
    for sentence in sentences:
        evidence = text[sentence.start : sentence.end]
        m = rules.direct_share.search(evidence)
        code = names.get(m.group(1)) if m else None
        amount, currency, _ = _amount(evidence[: m.start()]) if m and code else (None, None, None)
        if amount is None:
            continue
        for row in rows:
            if (
                sentence.index - 2 <= row["sentence_index"] < sentence.index
                and code in {affiliation_of(r, actors) for r in row["recipient_actor_ids"]}
                and (row["amount"] is None or (row["currency"] == currency and row["amount"] > amount))
            ):
                row["amount"], row["currency"] = amount, currency


def _same_sentence_targets(event: CodedEvent, events: list[CodedEvent]) -> list[str]:
    """Whom the same actors act for elsewhere in the sentence: "offered a grant to support the budget of Ukraine"."""
    targets: list[str] = []
    for other in events:
        if other.sentence_index == event.sentence_index and other.source_actor_ids == event.source_actor_ids:
            targets += [t for t in other.target_actor_ids if t not in targets]
    return targets


def _beneficiary(
    event: CodedEvent, recipients: list[str], counts: dict[str, int], actors: dict[str, ActorInfo]
) -> list[str]:
    """Aid paid to an international body or fund "to support Ukraine" reaches the country it is for as well: when
    every recipient found is an organisation, the countries the sentence names after "support", "for", "to" or
    "in" (the article's most named first)."""
    channels = [affiliation_of(r, actors) for r in recipients]
    if not channels or not all(c.startswith(("IGO:", "ORG:")) for c in channels):
        return []
    donors = {affiliation_of(d, actors) for d in event.source_actor_ids}
    named = [
        code
        for code, info in actors.items()
        if info.actor_type == "country" and code not in donors
        and re.search(rf"\b(?:support|for|to|in|help|benefit of)\s+(?:the\s+)?{re.escape(info.name)}\b", event.evidence)
    ]  # fmt: skip
    return sorted(named, key=lambda c: (-counts.get(c, 0), c))[:1]


def _unpurposed_money(object_text: str) -> tuple[str, str | None]:
    """Money with no purpose named: humanitarian when called aid or a donation ("10 million EUR in aid"),
    else financial ("$2 million to the electoral commission"). A bracketed aside is a reference, not a name."""
    unbracketed = re.sub(r"\([^)]*(?:\)|$)", " ", object_text)
    return ("humanitarian", None) if load_rules().aid_words.search(_plain(unbracketed)) else ("financial", None)


def _local_dollar(symbol: str | None, donors: list[str], actors: dict[str, ActorInfo]) -> str | None:
    """A bare "$" or "dollars" is the donor's own dollar when the donor is a dollar country other than the US."""
    rules = load_rules()
    if symbol not in rules.dollar_symbols:
        return None
    own = {affiliation_of(d, actors) for d in donors}
    local = {rules.local_dollars[c] for c in own if c in rules.local_dollars}
    return local.pop() if len(local) == 1 and len(own) == 1 else None


def _main_recipient(donors: list[str], counts: dict[str, int], actors: dict[str, ActorInfo]) -> list[str]:
    own = {affiliation_of(d, actors) for d in donors}
    ranked = sorted(((n, c) for c, n in counts.items() if c not in own), key=lambda nc: (-nc[0], nc[1]))
    if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return [ranked[0][1]]
    return []


def _ratification_conditions(rows: list[dict], text: str, sentences, rules: CommitmentRules) -> None:
    """ "...the need for ratification of these commitments by each country" makes ratification a condition
    of the commitments announced before it in the article."""
    for sentence in sentences:
        evidence = text[sentence.start : sentence.end]
        m = rules.ratification.search(evidence)
        if not m or not re.search(
            r"\b(?:these|the|their|its)\s+(?:commitments?|guarantees?|agreements?|pledges?)", evidence, re.I
        ):
            continue
        for row in rows:
            if row["sentence_index"] < sentence.index and row["status"] in ("pledged", "agreed", "signed"):
                row["conditions"] = "; ".join(filter(None, [row["conditions"], m.group(0).strip()]))
