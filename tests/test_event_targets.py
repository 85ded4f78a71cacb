"""Whom an event is aimed at when the sentence says it indirectly: titles named before, the organisation behind a
treaty clause or a summit, the guest of a hosted visit, sanctions announced. Sentences written for these tests."""

from __future__ import annotations

from tests.test_events import code, events


def test_a_title_alone_is_the_person_who_holds_it(extractor):
    _, result = code(
        extractor,
        "Chancellor Olaf Scholz met NATO Secretary General Mark Rutte in Berlin. "
        "The Chancellor thanked the Secretary General for his leadership.",
    )
    assert ("SUPPORT", ["PER:olaf-scholz"], ["PER:mark-rutte"], "asserted") in events(result)


def test_a_treaty_clause_implies_the_organisation(extractor):
    _, result = code(extractor, "Canada reaffirmed its commitment to collective defense under Article 5.")
    assert ("AGREE", ["CAN"], ["IGO:NATO"], "asserted") in events(result)


def test_a_trip_to_a_summit_is_with_the_organisation_not_the_host_country(extractor):
    _, result = code(extractor, "Prime Minister Kishida will travel to Vilnius, Lithuania for the NATO Summit.")
    [trip] = [e for e in result.events if e["trigger"] == "travel"]
    assert (trip["event_type"], trip["target_actor_ids"], trip["modality"]) == ("AGREE", ["IGO:NATO"], "future")


def test_welcoming_a_guest_to_a_place_hosts_a_visit(extractor):
    _, result = code(extractor, "Prime Minister Keir Starmer welcomed President Emmanuel Macron to Downing Street.")
    [visit] = result.events
    assert (visit["event_type"], visit["cameo_code"]) == ("CONSULT", "043")
    assert {*visit["source_actor_ids"], *visit["target_actor_ids"]} >= {"PER:keir-starmer", "PER:emmanuel-macron"}
    _, praise = code(extractor, "Prime Minister Keir Starmer welcomed the decision of France.")
    assert [e["event_type"] for e in praise.events] == ["SUPPORT"]


def test_announced_sanctions_are_sanctions_to_come(extractor):
    _, result = code(extractor, "Japan will announce new sanctions against Russia next week.")
    assert ("SANCTION", ["JPN"], ["RUS"], "future") in events(result)
    [pledge] = result.commitments
    assert (pledge["category"], pledge["status"], pledge["description"]) == (
        "sanctions",
        "pledged",
        "new sanctions against Russia",
    )


def test_what_a_verb_acts_on_decides_whether_it_is_the_act(extractor):
    _, result = code(
        extractor,
        "The Chancellor of Germany provided an update on the talks. "
        "The Chancellor signed an Executive Order on Tuesday. "
        "Germany will launch a new council with France. "
        "Russia launched missiles at Ukraine. "
        "Germany provided Moldova with $20 million.",
    )
    coded = [(e["event_type"], e["trigger"]) for e in result.events]
    assert coded == [("ASSAULT", "launched"), ("AID", "provided")]


def test_a_war_with_a_named_aggressor_is_asserted_under_a_future_verb(extractor):
    _, result = code(extractor, "The ministers will discuss the energy crisis caused by Iran's war against Iraq.")
    assert ("ASSAULT", ["IRN"], ["IRQ"], "asserted") in events(result)
    _, result = code(extractor, "The war has lasted three years, the Prime Minister of Iraq said.")
    assert [e for e in result.events if e["event_type"] == "ASSAULT"] == []  # "the war" alone names a thing


def test_praise_of_different_things_is_two_acts_and_a_repeat_is_one(extractor):
    _, result = code(
        extractor,
        "Chancellor Olaf Scholz thanked Poland for hosting the refugees. "
        "Chancellor Olaf Scholz applauded Poland's investments in defense. "
        "Chancellor Olaf Scholz thanked Poland for hosting the refugees again.",
    )
    praise = [e["trigger"] for e in result.events if e["event_type"] == "SUPPORT"]
    assert praise == ["thanked", "applauded"]


def test_voiced_appreciation_and_concern_aim_at_whose_act_it_is(extractor):
    _, result = code(
        extractor,
        "Chancellor Olaf Scholz expressed his appreciation for Poland's help to Ukrainian refugees. "
        "Chancellor Olaf Scholz expressed deep concern over the Russian attacks against Ukrainian cities.",
    )
    coded = events(result)
    assert ("SUPPORT", ["PER:olaf-scholz"], ["POL"], "asserted") in coded
    assert ("ACCUSE", ["PER:olaf-scholz"], ["RUS"], "asserted") in coded
    assert ("ASSAULT", ["RUS"], ["UKR"], "asserted") in coded
    _, result = code(extractor, "Germany and France discussed shared security concerns.")
    assert "ACCUSE" not in [e["event_type"] for e in result.events]


def test_the_victim_is_the_country_nobody_named_acts_for(extractor):
    _, result = code(
        extractor,
        "Chancellor Olaf Scholz met President Maia Sandu of Moldova. "
        "They discussed Germany's enduring support to Moldova in the face of Russian aggression.",
    )
    assert ("ASSAULT", ["RUS"], ["MDA"], "asserted") in events(result)


def test_handing_over_things_is_aid_and_handing_over_people_or_places_is_retreat(extractor):
    _, result = code(
        extractor,
        "Norway handed over 20 armoured vehicles to Ukraine. Denmark handed over control of the base to Iraq.",
    )
    assert [(e["event_type"], e["target_actor_ids"]) for e in result.events] == [("AID", ["UKR"]), ("RETREAT", ["IRQ"])]


def test_a_demand_noun_is_aimed_at_its_clause_subject_and_the_demanded_act_is_not_coded(extractor):
    _, result = code(
        extractor,
        "The World Health Organization (WHO) reiterated its demand today that Egypt lift restrictions on doctors.",
    )
    assert [(e["event_type"], e["target_actor_ids"]) for e in result.events] == [("REQUEST", ["EGY"])]


def test_a_hostile_act_with_no_one_named_is_aimed_at_the_country_where_it_happens(extractor):
    _, result = code(extractor, "President William Ruto threatened to impose a curfew in Nairobi.")
    assert [(e["event_type"], e["target_actor_ids"]) for e in result.events] == [("THREATEN", ["KEN"])]
    _, result = code(extractor, "The government of Sudan accused Darfur rebels of violating the truce.")
    assert ("ACCUSE", ["SDN"], ["SDN"], "asserted") in events(result)


def test_banning_opponents_is_coercion_and_banning_trade_a_sanction(extractor):
    _, result = code(extractor, "President Alexander Lukashenko banned opposition candidates from the election.")
    assert [(e["event_type"], e["cameo_code"]) for e in result.events] == [("COERCE", "1722")]
    _, result = code(extractor, "Russia banned imports from Poland.")
    assert [e["event_type"] for e in result.events] == ["SANCTION"]


def test_an_act_with_no_one_named_is_aimed_at_the_country_where_it_happens(extractor):
    _, result = code(extractor, "Israel will evacuate all its settlements in the Gaza Strip.")
    assert [(e["event_type"], e["target_actor_ids"]) for e in result.events] == [("AGREE", ["PSE"])]


def test_a_city_of_the_world_places_the_act_and_its_victim(extractor):
    _, result = code(extractor, "Russian jets bombed a market in Idlib on Tuesday.")
    [strike] = result.events
    assert (strike["event_type"], strike["target_actor_ids"]) == ("ASSAULT", ["SYR"])
    assert (strike["location"], strike["location_country"]) == ("Idlib", "SYR")
    _, meeting = code(extractor, "President Biden met Chancellor Scholz in San Francisco.")
    assert [(e["location"], e["location_country"]) for e in meeting.events] == [("San Francisco", "USA")]


def test_an_office_named_without_its_holder_acts_for_the_government_of_the_article(extractor):
    _, result = code(
        extractor,
        "President Trump signed a memorandum on Iran. The Secretary of State will impose new sanctions on Iran.",
    )
    assert ("SANCTION", ["USA"], ["IRN"], "future") in events(result)
    _, alone = code(extractor, "The Secretary of State will impose new sanctions on Iran.")
    assert alone.events == []  # no government named: nobody to act for


def test_a_relative_pronoun_is_the_noun_it_stands_for(extractor):
    _, result = code(
        extractor, "Syria criticized Benjamin Netanyahu, who has vowed not to return the Golan Heights to Syria."
    )
    assert ("RETREAT", ["PER:benjamin-netanyahu"], ["SYR"], "negated") in events(result)


def test_an_act_named_as_a_topic_of_talks_has_not_happened(extractor):
    _, result = code(
        extractor, "President Biden and Prime Minister Starmer discussed how the United States can support Ukraine."
    )
    assert "SUPPORT" not in [e["event_type"] for e in result.events]
    _, promised = code(extractor, "President Biden said the United States will support Ukraine.")
    assert [e["event_type"] for e in promised.events] == ["AGREE"]


def test_a_visit_to_a_city_is_hosted_by_its_country(extractor):
    _, result = code(extractor, "Iraqi President Saddam Hussein arrived in Amman on an unannounced visit.")
    [visit] = result.events
    assert (visit["event_type"], visit["cameo_code"], visit["target_actor_ids"]) == ("CONSULT", "042", ["JOR"])


def test_a_mediation_effort_between_two_sides_is_mediation(extractor):
    _, result = code(extractor, "Qatar launched a mediation effort on Saturday between the Emirates and Saudi Arabia.")
    coded = [(e["event_type"], e["cameo_code"], e["source_actor_ids"], e["target_actor_ids"]) for e in result.events]
    assert coded == [("CONSULT", "045", ["QAT"], ["ARE", "SAU"])]
    _, war = code(extractor, "Anyone supporting Russia's war effort risks sanctions.")
    assert "effort" not in [e["trigger"] for e in war.events]  # the war as a whole, not an attack


def test_a_relative_clause_keeps_its_own_tense_and_is_no_target(extractor):
    _, result = code(extractor, "The United States will sanction Hamas, which attacked Israel in October.")
    coded = events(result)
    assert ("SANCTION", ["USA"], ["ORG:hamas"], "future") in coded  # not aimed at Israel
    assert ("ASSAULT", ["ORG:hamas"], ["ISR"], "asserted") in coded  # it did attack
