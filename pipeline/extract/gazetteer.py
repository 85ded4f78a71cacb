"""The project-owned actor dictionary: countries, IGOs, regions, organisations, persons, titles, places.

All of it is data under `data/`; this module only loads and indexes it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from pipeline.extract.cities import city_countries

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class ActorInfo:
    actor_id: str
    name: str
    actor_type: str  # country, igo, person, organization, region
    country_code: str | None = None
    affiliation_id: str | None = None
    sector: str | None = None
    title: str | None = None
    wikidata_id: str | None = None


@dataclass(frozen=True)
class Alias:
    """A surface form in the dictionary. `actor_id` is None for places that block a shorter alias inside them."""

    surface: str
    actor_id: str | None
    kind: str  # name, demonym, capital, place, surname (only after a title)
    ambiguous: bool = False
    # An ambiguous alias that also names another place: the NER model's GPE label does not settle it.
    ambiguous_place: bool = False


@dataclass(frozen=True)
class Title:
    surface: str
    title: str
    sector: str | None
    affiliation_id: str | None


@dataclass
class Gazetteer:
    actors: dict[str, ActorInfo] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)
    titles: dict[str, Title] = field(default_factory=dict)
    # Surnames safe only after a title ("President Harris"): surname -> person id.
    titled_surnames: dict[str, str] = field(default_factory=dict)
    # Places (places.yaml) with the country they lie in, for events' location_country.
    place_countries: dict[str, str] = field(default_factory=dict)
    # The world's cities not listed above (cities.py), consulted after them.
    city_countries: dict[str, str] = field(default_factory=dict)
    # Aliases claimed by two actors; the first one keeps it. A test keeps this empty.
    conflicts: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def add_alias(self, alias: Alias) -> None:
        existing = self.aliases.get(alias.surface)
        if existing is None:
            self.aliases[alias.surface] = alias
        elif existing.actor_id != alias.actor_id:
            self.conflicts.append((alias.surface, existing.actor_id, alias.actor_id))

    def place_country(self, name: str) -> str | None:
        """The country a named place lies in: our own places first, then the world's cities."""
        return self.place_countries.get(name) or self.city_countries.get(name)


def affiliation_of(actor_id: str, actors: dict[str, ActorInfo]) -> str:
    """Whom an actor acts for, as events and commitments are compared: a person's or organisation's
    affiliation, else its country; countries, IGOs and regions act for themselves."""
    info = actors.get(actor_id)
    if info and info.actor_type in ("person", "organization"):
        return info.affiliation_id or info.country_code or actor_id
    return actor_id


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _load(name: str) -> list[dict]:
    path = DATA_DIR / name
    # libyaml's loader: the person list alone takes seconds with the pure-Python one.
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or []


@cache
def load_gazetteer() -> Gazetteer:
    g = Gazetteer()
    for entry in _load("countries.yaml"):
        cid = entry["id"]
        g.actors[cid] = ActorInfo(cid, entry["name"], "country", country_code=cid, wikidata_id=entry.get("wikidata"))
        ambiguous = set(entry.get("ambiguous") or [])
        places = set(entry.get("ambiguous_places") or [])
        for kind, key in (("name", "aliases"), ("demonym", "demonyms"), ("capital", "capitals")):
            for surface in entry.get(key) or []:
                g.add_alias(Alias(surface, cid, kind, surface in ambiguous, surface in places))
        g.add_alias(Alias(entry["name"], cid, "name", entry["name"] in ambiguous))
    for entry in _load("igos.yaml"):
        g.actors[entry["id"]] = ActorInfo(entry["id"], entry["name"], "igo", wikidata_id=entry.get("wikidata"))
        for surface in [entry["name"], *(entry.get("aliases") or [])]:
            g.add_alias(Alias(surface, entry["id"], "name"))
    for entry in _load("regions.yaml"):
        g.actors[entry["id"]] = ActorInfo(entry["id"], entry["name"], "region", wikidata_id=entry.get("wikidata"))
        for surface in entry.get("aliases") or []:
            g.add_alias(Alias(surface, entry["id"], "name"))
        for surface in entry.get("demonyms") or []:
            g.add_alias(Alias(surface, entry["id"], "demonym"))
    for entry in _load("organizations.yaml"):
        g.actors[entry["id"]] = ActorInfo(
            entry["id"],
            entry["name"],
            "organization",
            country_code=entry.get("country"),
            affiliation_id=entry.get("affiliation"),
            sector=entry.get("sector"),
            wikidata_id=entry.get("wikidata"),
        )
        for surface in [entry["name"], *(entry.get("aliases") or [])]:
            g.add_alias(Alias(surface, entry["id"], "name"))
    for entry in _load("persons.yaml"):
        pid = entry["id"]
        g.actors[pid] = ActorInfo(
            pid,
            entry["name"],
            "person",
            country_code=entry.get("country"),
            affiliation_id=entry.get("affiliation") or entry.get("country"),
            sector=entry.get("sector"),
            title=entry.get("title"),
            wikidata_id=entry.get("wikidata"),
        )
        for surface in [entry["name"], *(entry.get("aliases") or [])]:
            g.add_alias(Alias(surface, pid, "name"))
        surname = entry.get("surname")
        if surname and entry.get("title_surname"):
            g.titled_surnames.setdefault(surname, pid)
    for name in ("places.yaml", "non_actors.yaml"):
        for entry in _load(name):
            g.add_alias(Alias(entry["name"], None, "place"))
            if entry.get("country"):
                g.place_countries[entry["name"]] = entry["country"]
    g.city_countries = city_countries(frozenset(a for a, info in g.actors.items() if info.actor_type == "country"))
    for entry in _load("titles.yaml"):
        for surface in [entry["title"], *(entry.get("aliases") or [])]:
            g.titles.setdefault(surface, Title(surface, entry["title"], entry.get("sector"), entry.get("affiliation")))
    return g
