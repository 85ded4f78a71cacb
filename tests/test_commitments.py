"""The commitment coder's category, amount, currency and recipient rules, on sentences written for these tests."""

from __future__ import annotations

from datetime import date

from pipeline.extract.commitments import categorize, parse_amount
from pipeline.normalize import normalize_record
from pipeline.records import RawRecord


def commitments(extractor, text: str) -> list[dict]:
    article = normalize_record(RawRecord("t", "test", text, published="2026-01-08"), "en")
    [result] = extractor.extract_batch([article], date(2026, 1, 7))
    return result.commitments


def test_words_split_by_the_parser_still_match():
    # Object phrases come back token by token: "de - mining", "Ukraine 's".
    assert categorize("support for de - mining of farmland", topics=False) == [("humanitarian", None)]


def test_a_guarantee_with_an_amount_is_money_without_one_protection():
    assert categorize("a $20 million guarantee", priced=True) == [("financial", None)]
    assert categorize("guarantees for Moldova") == [("security_guarantee", None)]
    assert categorize("security guarantees", priced=True) == [("security_guarantee", None)]


def test_civil_use_is_not_military_aid():
    assert categorize("training for civil protection staff") == [("humanitarian", None)]
    assert categorize("rescue equipment and fire trucks") == [("humanitarian", None)]
    assert categorize("training for artillery crews") == [("military", "training")]  # not civilian
    assert categorize("a field hospital") == [("military", "equipment")]
    assert categorize("a children's hospital") == [("humanitarian", None)]
    assert categorize("army trucks") == [("military", "equipment")]
    assert ("military", "equipment") in categorize("armored rescue vehicles")  # armour makes them military
    assert categorize("medical equipment") == [("humanitarian", "medical")]


def test_a_military_field_yields_to_a_humanitarian_purpose():
    text = "a program to clear landmines from fields once held by occupying armed forces"
    assert categorize(text) == [("humanitarian", None)]
    assert categorize("support for the armed forces") == [("military", None)]


def test_where_money_comes_from_is_not_what_it_is_for():
    text = "$10 million from customs tariff revenues to restore the power grid"
    assert categorize(text) == [("humanitarian", "energy")]
    assert categorize("new tariffs on steel") == [("sanctions", None)]


def test_more_currency_names():
    assert parse_amount("2.4 billion hryvnias") == (2.4e9, "UAH")
    assert parse_amount("300 million lei in food") == (3e8, "RON")
    assert parse_amount("ISK 90 million") == (9e7, "ISK")
    assert parse_amount("50 million yuan") == (5e7, "CNY")
    assert parse_amount("220 ISK million") == (2.2e8, "ISK")


def test_the_value_the_sentence_puts_on_the_thing(extractor):
    [c] = commitments(extractor, "Finland will send military equipment to Ukraine worth up to EUR 12 million.")
    assert (c["category"], c["amount"], c["currency"]) == ("military", 12e6, "EUR")
    text = "Finland will send military equipment to Ukraine, noting earlier aid of EUR 90 million."
    [c] = commitments(extractor, text)
    assert c["amount"] is None  # another figure of the sentence, not a value put on the thing


def test_a_bare_dollar_is_the_donors_own(extractor):
    [c] = commitments(extractor, "Australia will provide $15 million in humanitarian aid to Ukraine.")
    assert (c["amount"], c["currency"]) == (15e6, "AUD")
    [c] = commitments(extractor, "The United States will provide $15 million in humanitarian aid to Ukraine.")
    assert c["currency"] == "USD"
    [c] = commitments(extractor, "Australia will provide US$15 million in humanitarian aid to Ukraine.")
    assert c["currency"] == "USD"  # written as US dollars


def test_money_through_an_international_fund_reaches_the_country_it_supports(extractor):
    [c] = commitments(extractor, "Ireland contributed €3 million to the World Bank trust fund to support Ukraine.")
    assert c["recipient_actor_ids"] == ["IGO:WORLD_BANK", "UKR"]
    [c] = commitments(extractor, "Ireland contributed €3 million to the World Bank trust fund.")
    assert c["recipient_actor_ids"] == ["IGO:WORLD_BANK"]  # no country named as the one supported
    text = "Ireland contributed €3 million to the World Bank trust fund after talks with Moldova."
    assert commitments(extractor, text)[0]["recipient_actor_ids"] == ["IGO:WORLD_BANK"]  # named, not supported


def test_money_with_no_purpose_is_humanitarian_when_called_aid(extractor):
    [c] = commitments(extractor, "Portugal will allocate an additional 6 million EUR in aid to Moldova.")
    assert (c["category"], c["amount"]) == ("humanitarian", 6e6)
    [c] = commitments(extractor, "Portugal will allocate an additional 6 million EUR to Moldova (see the aid list).")
    assert c["category"] == "financial"  # the bracketed aside names no purpose


def test_a_purchase_for_a_country_with_money_put_on_it_is_a_commitment(extractor):
    text = "The European Commission pledged to mobilize €40 million to purchase generators for Moldova."
    [c] = commitments(extractor, text)
    assert (c["category"], c["recipient_actor_ids"], c["amount"]) == ("humanitarian", ["MDA"], 40e6)
    assert commitments(extractor, "The European Commission pledged to purchase generators together with Moldova.") == []


def test_one_commitment_per_thing_promised_in_a_sentence(extractor):
    text = (
        "Korea decided to provide additional 20 million US dollars in emergency humanitarian assistance "
        "to assist the people of Moldova who are facing hardship."
    )
    [c] = commitments(extractor, text)  # "provide" and "assist" name one thing
    assert (c["category"], c["recipient_actor_ids"], c["amount"]) == ("humanitarian", ["MDA"], 20e6)


def test_a_value_put_on_the_aid_in_the_next_sentence(extractor):
    text = "Belgium is sending medical equipment to Moldova. The total value of the aid package is €4 million."
    [c] = commitments(extractor, text)
    assert (c["category"], c["amount"], c["currency"]) == ("humanitarian", 4e6, "EUR")
    text = "Belgium is sending medical equipment to Moldova. The equipment was made in 2021 at a cost of €4 million."
    assert commitments(extractor, text)[0]["amount"] is None  # the cost of making it, not the aid's value
    sending = "Belgium is sending medical equipment to Moldova. Details are secret."
    text = sending + " The package value, amounting to €4 million, is public."
    assert commitments(extractor, text)[0]["amount"] == 4e6
    text = sending + " It is late. The package is worth €4 million."
    assert commitments(extractor, text)[0]["amount"] is None  # too far from the announcement


def test_the_thing_given_in_a_with_phrase(extractor):
    [c] = commitments(extractor, "Spain announced to support Moldova with mobile generators.")
    assert (c["category"], c["subtype"], c["recipient_actor_ids"]) == ("humanitarian", "energy", ["MDA"])
    assert commitments(extractor, "Spain announced to support Moldova with its diplomacy.") == []


def test_an_announced_clause_that_gives_something(extractor):
    text = "Denmark announced that 50 DKR million would go to a fund that buys artillery shells for Moldova."
    [c] = commitments(extractor, text)
    assert (c["category"], c["donor_actor_ids"], c["recipient_actor_ids"]) == ("military", ["DNK"], ["MDA"])
    text = "Denmark announced that artillery shells would be counted in its budget review for Moldova."
    assert commitments(extractor, text) == []  # nothing is given


def test_the_part_that_goes_directly_to_the_recipient(extractor):
    text = (
        "The European Commission will provide an additional 175 EUR million in humanitarian assistance to support "
        "those most in need in Moldova and Georgia. 150 EUR million will go directly to Moldova."
    )
    [c] = commitments(extractor, text)
    assert (c["recipient_actor_ids"], c["amount"]) == (["MDA"], 150e6)
    text = (
        "The European Commission will provide an additional 175 EUR million in humanitarian assistance to Moldova. "
        "The aid arrives by train directly to Moldova."
    )
    assert commitments(extractor, text)[0]["amount"] == 175e6  # no part named


SIGNED_MEMO = (
    "MEMORANDUM FOR THE SECRETARY OF STATE\n"
    "By the authority vested in me as President by the Constitution and the laws of the United States of America, "
    "I hereby delegate to the Secretary of State the authority under section 506(a)(1) of the Foreign Assistance Act "
    "of 1961 to direct the drawdown of up to $80 million in defense articles and services of the Department of "
    "Defense, and military education and training, to provide assistance to Taiwan.\n"
    "You are authorized and directed to publish this memorandum in the Federal Register.\n"
    "DONALD J. TRUMP"
)


def test_a_signed_drawdown_memorandum_is_a_pledge_by_its_signer(extractor):
    [pledge] = commitments(extractor, SIGNED_MEMO)
    assert (pledge["donor_actor_ids"], pledge["recipient_actor_ids"]) == (["PER:donald-trump"], ["TWN"])
    assert (pledge["category"], pledge["status"], pledge["amount"], pledge["currency"]) == (
        "military", "pledged", 80_000_000, "USD"
    )
    # Unsigned, "I" is nobody: no event, no commitment.
    assert commitments(extractor, SIGNED_MEMO.rsplit("\n", 1)[0]) == []
