"""Actor extraction on real text, with the real spaCy model and dictionary."""

from __future__ import annotations

from datetime import date

from pipeline.normalize import normalize_record
from pipeline.records import RawRecord


def extract(extractor, text: str):
    article = normalize_record(RawRecord(source_id="t", source="test", text=text), "en")
    [result] = extractor.extract_batch([article], date(2026, 1, 7))
    return article, result


def ids(result) -> set[str]:
    return {m.actor_id for m in result.mentions}


def test_sample_article_actors(extractor, sample_text):
    article, result = extract(extractor, sample_text)
    assert ids(result) == {
        "USA",
        "REG:EUROPE",
        "UKR",
        "CAN",
        "IGO:EU",
        "IGO:NATO",
        "RUS",
        "GBR",
        "FRA",
        "PER:keir-starmer",
        "PER:volodymyr-zelenskyy",
    }
    for m in result.mentions:
        assert article.text[m.char_start : m.char_end] == m.text
        sentence = article.sentences[m.sentence_index]
        assert sentence.start <= m.char_start < m.char_end <= sentence.end
    starmer = result.actors["PER:keir-starmer"]
    assert (starmer.country_code, starmer.affiliation_id, starmer.sector) == ("GBR", "GBR", "GOV")
    assert starmer.title == "Prime Minister"
    assert "Paris" not in {m.text for m in result.mentions}  # "a meeting in Paris" is a place


def test_unknown_person_gets_country_and_office_from_the_title(extractor):
    _, result = extract(extractor, "Lithuanian Deputy Foreign Minister Jonas Petrauskaitis met Ukraine's envoy.")
    person = next(a for a in result.actors.values() if a.actor_type == "person")
    assert person.actor_id == "PER:jonas-petrauskaitis"
    assert person.country_code == "LTU" and person.sector == "GOV"


def test_person_named_after_title_and_of_country(extractor):
    _, result = extract(extractor, "Biden met President Tomas Brevik of Norway in Oslo. Brevik thanked him.")
    person = result.actors["PER:tomas-brevik"]
    assert person.country_code == "NOR"
    assert sum(m.actor_id == "PER:tomas-brevik" for m in result.mentions) == 2  # the surname resolves


def test_a_surname_with_an_inner_capital_resolves_without_ner(extractor):
    # The second sentence holds no name the NER gate looks for: the bare surname is found from the first.
    text = "Kevin McCarthy spoke on Monday. The President will meet with McCarthy and DelBene on Tuesday."
    _, result = extract(extractor, text)
    assert [m.text for m in result.mentions if m.actor_id == "PER:kevin-mccarthy"] == ["Kevin McCarthy", "McCarthy"]


def test_honorifics_and_transcript_marks_are_not_part_of_a_name(extractor):
    # The entities NER sometimes gives on White House texts, resolved as `resolve` does with the model's output.
    text = "The Honorable Tomas Brevik spoke. Q Ines Halvorsen asked a question. The Honorable spoke."
    found = _resolve_persons(extractor, text, ["The Honorable Tomas Brevik", "Q Ines Halvorsen", "The Honorable spoke"])
    assert [(m.actor_id, m.text) for m in found.mentions] == [
        ("PER:tomas-brevik", "Tomas Brevik"),
        ("PER:ines-halvorsen", "Ines Halvorsen"),
    ]


def test_names_of_things_are_no_persons(extractor):
    text = "The Strategic Plan was praised by Border Patrol agents and by Tomas Brevik near Bristol Bay."
    found = _resolve_persons(extractor, text, ["Strategic Plan", "Border Patrol", "Tomas Brevik", "Bristol Bay"])
    assert [m.actor_id for m in found.mentions] == ["PER:tomas-brevik"]


def _resolve_persons(extractor, text: str, names: list[str]):
    """`resolve` on the text with these names as the model's PERSON entities."""
    article = normalize_record(RawRecord(source_id="t", source="test", text=text), "en")
    doc = extractor.nlp.make_doc(article.text)
    entities = [(text.index(name), text.index(name) + len(name), "PERSON") for name in names]
    return extractor.actors._resolve(article, doc, extractor.actors.dictionary_spans(doc), entities)


def test_spelling_variants_resolve_to_one_actor(extractor):
    _, result = extract(extractor, "Zelensky spoke first. Then Zelenskiy and President Zelenskyy spoke again.")
    assert ids(result) == {"PER:volodymyr-zelenskyy"}


def test_capitals_as_governments_and_as_places(extractor):
    _, result = extract(extractor, "Moscow rejected the proposal. Talks were held in Minsk and Paris.")
    assert ids(result) == {"RUS"}


def test_places_block_the_country_inside_them(extractor):
    _, result = extract(extractor, "Ships crossed the Taiwan Strait and the South China Sea. Taiwan protested.")
    assert [m.text for m in result.mentions] == ["Taiwan"]


def test_regions_only_as_blocs(extractor):
    _, result = extract(extractor, "European allies met in Europe. Western countries and African nations agreed.")
    assert [(m.actor_id, m.text) for m in result.mentions] == [
        ("REG:EUROPE", "European allies"),
        ("REG:WEST", "Western countries"),
        ("REG:AFRICA", "African nations"),
    ]


def test_ambiguous_alias_needs_corroboration(extractor):
    _, alone = extract(extractor, "The governor of Georgia signed the bill.")
    assert ids(alone) == set()
    _, corroborated = extract(extractor, "Tbilisi protested. Georgia recalled its ambassador.")
    assert ids(corroborated) == {"GEO"}
    _, bird = extract(extractor, "The National Thanksgiving Turkey Presentation took place on Tuesday.")
    assert "TUR" not in ids(bird)
    _, country = extract(extractor, "Portugal will support Turkey's efforts to join the bloc.")
    assert "TUR" in ids(country)  # the model reads it as a place


def test_igo_officials_act_for_the_igo(extractor):
    _, result = extract(extractor, "NATO Secretary General Mark Rutte met Canadian officials.")
    assert result.actors["PER:mark-rutte"].affiliation_id == "IGO:NATO"
