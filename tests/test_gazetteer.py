"""The actor dictionary: complete, consistent, and loadable."""

from __future__ import annotations

import re

import pytest
import yaml

from pipeline.extract.gazetteer import DATA_DIR, load_gazetteer, slugify

ISO3 = re.compile(r"^[A-Z]{3}$")
G20 = ("ARG AUS BRA CAN CHN FRA DEU IND IDN ITA JPN MEX RUS SAU ZAF KOR TUR GBR USA").split()
NATO = (
    "ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD NOR "
    "POL PRT ROU SVK SVN ESP SWE TUR GBR USA"
).split()
EU = (
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP SWE"
).split()


# No defence ministry: Iceland has no armed forces (its foreign minister holds the portfolio); Malta's armed
# forces answer to the minister for home affairs and security.
NO_DEFENCE_MINISTER = {"ISL", "MLT"}


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def _file(name: str) -> list[dict]:
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


def test_no_alias_names_two_actors(gazetteer):
    assert gazetteer.conflicts == []


def test_every_un_member_and_observer_plus_taiwan_and_kosovo(gazetteer):
    countries = [a for a in gazetteer.actors.values() if a.actor_type == "country"]
    assert len(countries) == 197
    assert {"VAT", "PSE", "TWN", "XKX", "UKR", "USA", "SSD"} <= {c.actor_id for c in countries}
    assert all(ISO3.match(c.actor_id) and c.country_code == c.actor_id for c in countries)


def test_well_known_ids(gazetteer):
    wikidata = {a.actor_id: a.wikidata_id for a in gazetteer.actors.values()}
    assert wikidata["UKR"] == "Q212" and wikidata["USA"] == "Q30" and wikidata["IGO:NATO"] == "Q7184"
    assert wikidata["IGO:EU"] == "Q458" and wikidata["GBR"] == "Q145"
    aliases = gazetteer.aliases
    for surface, actor in [
        ("U.S.", "USA"),
        ("U.K.", "GBR"),
        ("UAE", "ARE"),
        ("Britain", "GBR"),
        ("Kyiv", "UKR"),
        ("Ukrainian", "UKR"),
        ("European Commission", "IGO:EU"),
        ("NATO", "IGO:NATO"),
        ("G7", "IGO:G7"),
        ("Zelensky", "PER:volodymyr-zelenskyy"),
        ("Zelenskyy", "PER:volodymyr-zelenskyy"),
        ("Hamas", "ORG:hamas"),
    ]:
        assert aliases[surface].actor_id == actor, surface


def test_contract_igos_and_at_least_forty(gazetteer):
    igos = {a for a, info in gazetteer.actors.items() if info.actor_type == "igo"}
    required = [
        "NATO",
        "EU",
        "UN",
        "G7",
        "G20",
        "OSCE",
        "IMF",
        "WORLD_BANK",
        "WTO",
        "WHO",
        "IAEA",
        "UNHCR",
        "AU",
        "ASEAN",
        "APEC",
        "QUAD",
        "OPEC",
        "ARAB_LEAGUE",
        "GCC",
        "BRICS",
        "SCO",
        "CSTO",
        "OECD",
        "COUNCIL_OF_EUROPE",
        "ICC",
        "ICJ",
        "EBRD",
        "EIB",
        "ECOWAS",
        "OAS",
    ]
    assert {f"IGO:{x}" for x in required} <= igos
    assert len(igos) >= 40
    assert all(re.match(r"^IGO:[A-Z0-9_]+$", i) for i in igos)


def test_leaders_of_required_countries():
    """Heads of state or government, foreign and defence ministers for every required country."""
    persons = _file("persons.yaml")
    by_affiliation: dict[str, list[dict]] = {}
    for p in persons:
        by_affiliation.setdefault(p.get("affiliation") or p["country"], []).append(p)
    missing = []
    for code in sorted(set(G20 + NATO + EU + ["UKR", "RUS", "ISR", "IRN"])):
        titles = " ".join(p.get("title") or "" for p in by_affiliation.get(code, []))
        if not re.search(r"President|Prime Minister|Chancellor|King|Emir|Supreme Leader|Premier|Taoiseach", titles):
            missing.append((code, "head"))
        if not re.search(r"Foreign|Secretary of State|External Affairs|International Relations", titles):
            missing.append((code, "foreign"))
        if code not in NO_DEFENCE_MINISTER and not re.search(r"Defen[cs]e|War|Armed Forces", titles):
            missing.append((code, "defence"))
    assert missing == [], missing


def test_person_entries_are_well_formed():
    for p in _file("persons.yaml"):
        assert p["id"] == "PER:" + slugify(p["id"][4:]), p["id"]
        assert ISO3.match(p["country"]), p["id"]
        assert p.get("sector"), p["id"]


def test_titles_resolve_sectors(gazetteer):
    titles = gazetteer.titles
    assert titles["Prime Minister"].sector == "GOV"
    assert titles["Gen."].sector == "MIL"
    assert titles["NATO Secretary General"].affiliation_id == "IGO:NATO"


def test_world_cities_give_their_country_only_when_the_name_is_clear(gazetteer):
    place = gazetteer.place_country
    assert [place(n) for n in ("Samarra", "Juba", "Kandahar", "Kharkiv")] == ["IRQ", "SSD", "AFG", "UKR"]
    # Transliterations of a large city's name count, and outweigh a smaller city's main name.
    assert (place("Basra"), place("Odessa")) == ("IRQ", "UKR")
    # Several cities of about the same size in different countries: no answer.
    assert place("Victoria") is None
    # Not cities: a month, a continent, a US state, and a translation of Casablanca's name.
    assert [place(n) for n in ("March", "Asia", "Georgia", "White House")] == [None, None, None, None]
    # Our own places come first.
    assert place("Taiwan Strait") == "TWN"
