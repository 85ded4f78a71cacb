"""The event and commitment coders on real parses of sentences written for these tests."""

from __future__ import annotations

from datetime import date

from pipeline.extract.commitments import categorize, parse_amount
from pipeline.extract.dates import resolve_date
from pipeline.extract.lexicon import QUAD_CLASS
from pipeline.normalize import normalize_record
from pipeline.records import RawRecord


def code(extractor, text: str, published: str | None = "2026-01-08"):
    article = normalize_record(RawRecord("t", "test", text, published=published), "en")
    [result] = extractor.extract_batch([article], date(2026, 1, 7))
    return article, result


def events(result) -> list[tuple]:
    return [(e["event_type"], e["source_actor_ids"], e["target_actor_ids"], e["modality"]) for e in result.events]


def test_sample_article_events_and_commitments(extractor, sample_text):
    article, result = code(extractor, sample_text, published=None)
    coded = events(result)
    assert ("AGREE", ["USA", "REG:EUROPE"], ["UKR"], "future") in coded  # compound source kept whole
    assert ("ASSAULT", ["RUS"], ["UKR"], "asserted") in coded  # "Russia's prolonged invasion of Ukraine"
    assert any(t == "CONSULT" and {"USA", "CAN", "REG:EUROPE"} <= set(s) for t, s, _, _ in coded)
    commitments = {(c["category"], tuple(c["donor_actor_ids"]), c["status"]) for c in result.commitments}
    assert ("security_guarantee", ("USA", "REG:EUROPE"), "pledged") in commitments
    assert ("military", ("GBR", "FRA"), "pledged") in commitments  # "with the U.K. and France taking a leading role"
    assert any(
        c["category"] == "military" and c["status"] == "agreed" and "USA" in c["donor_actor_ids"]
        for c in result.commitments
    )  # "The coalition has agreed to support ...": the coalition resolved
    assert len(result.commitments) == 3  # "protected facilities" restates the coalition's military promise
    guarantee = next(c for c in result.commitments if c["category"] == "security_guarantee")
    assert "ratification" in guarantee["conditions"]
    for e in result.events:
        assert article.text[e["char_start"] : e["char_end"]] == e["evidence"]
        assert e["quad_class"] == QUAD_CLASS[e["event_type"]] and e["cameo_root"] == e["cameo_code"][:2]
        assert -10 <= e["goldstein"] <= 10


def test_passive_agent_is_the_source(extractor):
    _, result = code(extractor, "Ukraine was attacked by Russia on Tuesday.")
    assert ("ASSAULT", ["RUS"], ["UKR"], "asserted") in events(result)
    assert result.events[0]["event_date"] == date(2026, 1, 6)  # "on Tuesday" before Thursday 8 January


def test_modalities(extractor):
    _, future = code(extractor, "Germany will send tanks to Ukraine.")
    assert events(future) == [("AGREE", ["DEU"], ["UKR"], "future")]  # a promise to give is AGREE
    _, done = code(extractor, "Germany sent tanks to Ukraine.")
    assert events(done) == [("AID", ["DEU"], ["UKR"], "asserted")]
    _, negated = code(extractor, "Japan did not sanction Russia.")
    assert events(negated) == [("SANCTION", ["JPN"], ["RUS"], "negated")]
    _, conditional = code(extractor, "If Russia attacks Poland, NATO could respond.")
    assert ("ASSAULT", ["RUS"], ["POL"], "hypothetical") in events(conditional)


def test_request_aimed_at_the_subject_of_the_demand(extractor):
    _, result = code(extractor, "The United States demanded that Iran release the detained sailors.")
    assert events(result)[0][:3] == ("REQUEST", ["USA"], ["IRN"])


def test_restatements_are_one_event(extractor):
    _, result = code(extractor, "Russia attacked Ukraine. Russia attacked Ukraine again, officials said.")
    assert len([e for e in result.events if e["event_type"] == "ASSAULT"]) == 1


def test_commitment_amounts_and_categories():
    assert parse_amount("Norway pledged NOK 1 billion") == (1e9, "NOK")
    assert parse_amount("a package of €2.5bn") == (2.5e9, "EUR")
    assert parse_amount("35 million AUD in aid") == (35e6, "AUD")
    assert parse_amount("$200 million") == (2e8, "USD")
    assert categorize("security guarantees and $5bn in loans") == [("security_guarantee", None), ("financial", "loan")]
    assert categorize("IRIS-T air defence systems") == [("military", "air_defense")]
    # Whole words: "based" is not a military base; a topic alone ("energy security") names nothing given.
    assert categorize("a partnership based on shared values") == []
    assert categorize("energy security", topics=False) == []
    assert categorize("energy security") == [("humanitarian", None)]  # with an amount: what the money is for
    assert categorize("defense", topics=False) == [] and categorize("defense") == [("military", None)]
    # A guarantee covers the topic word; trade is not military aid.
    assert categorize("commitment to Estonia's defense") == [("security_guarantee", None)]
    assert categorize("a purchase of 30 passenger aircraft") == [("other", "trade")]


def commitments(result) -> list[tuple]:
    return [(c["category"], c["donor_actor_ids"], c["recipient_actor_ids"], c["status"]) for c in result.commitments]


def test_commitment_to_a_country_defense_is_a_security_guarantee(extractor):
    _, result = code(extractor, "Chancellor Olaf Scholz reaffirmed Germany's commitment to Lithuania's defence.")
    assert [(c[0], c[2], c[3]) for c in commitments(result)] == [("security_guarantee", ["LTU"], "pledged")]


def test_the_administration_is_the_speakers_government(extractor):
    text = (
        "President Biden met President William Ruto of Kenya at the White House. "
        "President Biden said the Administration intends to provide $40 million in budget support to Kenya."
    )
    _, result = code(extractor, text)
    [c] = result.commitments
    assert (c["category"], c["donor_actor_ids"], c["recipient_actor_ids"]) == ("financial", ["USA"], ["KEN"])
    assert (c["amount"], c["status"]) == (4e7, "proposed")  # "intends to": proposed, not yet pledged


def test_a_pledge_to_cooperate_is_an_event_without_a_commitment(extractor):
    _, result = code(extractor, "France and Italy pledged to work together to address the threat of drones.")
    assert [e[0] for e in events(result)] == ["AGREE"]
    assert result.commitments == []


def test_currency_names_are_not_actors(extractor):
    _, result = code(extractor, "Japan will provide 100 million US dollars in humanitarian assistance to Ukraine.")
    assert commitments(result) == [("humanitarian", ["JPN"], ["UKR"], "pledged")]
    assert (result.commitments[0]["amount"], result.commitments[0]["currency"]) == (1e8, "USD")


def test_mislemmatised_trigger_is_still_found(extractor):
    _, result = code(extractor, "Kenyan students staged demonstrations in Nairobi on Monday.")  # "staged" -> "stag"
    assert ("PROTEST", ["KEN"], ["KEN"], "asserted") in events(result)


def test_aid_with_amount_becomes_a_financial_commitment(extractor):
    _, result = code(extractor, "Canada announced $50 million in financial assistance to Ukraine.")
    [c] = result.commitments
    assert (c["category"], c["donor_actor_ids"], c["recipient_actor_ids"]) == ("financial", ["CAN"], ["UKR"])
    assert (c["amount"], c["currency"], c["status"]) == (5e7, "CAD", "pledged")  # Canada's "$" is its own dollar


def test_dates():
    published = date(2026, 1, 8)
    assert resolve_date("They met on January 6, 2026.", published) == date(2026, 1, 6)
    assert resolve_date("It was signed yesterday.", published) == date(2026, 1, 7)
    assert resolve_date("Talks resume next Monday.", published) == date(2026, 1, 12)
    assert resolve_date("No date.", published) is None


def test_reported_demand_is_a_request_of_the_addressee(extractor):
    _, result = code(extractor, "A senior British minister said that Libya must hand over the suspects.")
    assert events(result) == [("REQUEST", ["GBR"], ["LBY"], "asserted")]  # the hand-over has not happened


def test_threat_is_aimed_at_whom_its_content_names(extractor):
    _, result = code(extractor, "Azerbaijan threatened to break relations with Russia.")
    assert events(result)[0][:3] == ("THREATEN", ["AZE"], ["RUS"])


def test_protest_with_no_target_is_domestic(extractor):
    _, result = code(extractor, "Thousands of Nigerians protested in Lagos on Sunday.")
    assert ("PROTEST", ["NGA"], ["NGA"], "asserted") in events(result)


def test_condemning_an_attack_codes_the_attack_too(extractor):
    _, result = code(extractor, "Poland condemned Russia's missile attack on Ukraine.")
    coded = events(result)
    assert ("ACCUSE", ["POL"], ["RUS"], "asserted") in coded
    assert ("ASSAULT", ["RUS"], ["UKR"], "asserted") in coded


def test_the_guest_of_a_visit_is_the_other_side(extractor):
    _, result = code(extractor, "On Friday, Chancellor Olaf Scholz will host President Emmanuel Macron in Berlin.")
    [event] = result.events
    assert (event["event_type"], event["modality"]) == ("AGREE", "future")  # an announced meeting
    assert event["target_actor_ids"] == ["PER:emmanuel-macron"]


def test_the_victim_left_to_the_sentence(extractor):
    _, result = code(extractor, "Canada rallied its partners to stand with Moldova against Russia's aggression.")
    assert any(e[:3] == ("ASSAULT", ["RUS"], ["MDA"]) for e in events(result))


def test_the_leaders_are_who_met_and_praise_aims_at_whose_action(extractor):
    text = (
        "Vice President Kamala Harris met Prime Minister Fumio Kishida in Tokyo. "
        "The Vice President recognized the Prime Minister's decisive action to hold Russia accountable. "
        "The leaders condemned the missile launch by North Korea."
    )
    _, result = code(extractor, text)
    coded = events(result)
    assert ("SUPPORT", ["PER:kamala-harris"], ["PER:fumio-kishida"], "asserted") in coded  # not Russia
    assert ("ACCUSE", ["PER:kamala-harris", "PER:fumio-kishida"], ["PRK"], "asserted") in coded


def test_different_acts_of_one_type_between_the_same_sides_are_kept(extractor):
    text = (
        "Chancellor Olaf Scholz conveyed condolences to President Emmanuel Macron over the floods. "
        "Chancellor Olaf Scholz thanked President Emmanuel Macron for France's leadership."
    )
    _, result = code(extractor, text)
    assert [e["cameo_code"] for e in result.events if e["event_type"] == "SUPPORT"] == ["018", "051"]


def test_money_takes_the_category_of_its_purpose(extractor):
    _, result = code(extractor, "Lithuania provides 4 million EUR to help Ukraine rebuild its energy network.")
    assert ("humanitarian", ["LTU"], ["UKR"]) in [c[:3] for c in commitments(result)]
    _, result = code(extractor, "Croatia will donate €500,000 to NATO's Comprehensive Assistance Package for Ukraine.")
    assert [c[0] for c in commitments(result)] == ["military"]


def test_unaddressed_aid_goes_to_the_one_other_country_named(extractor):
    text = "The Netherlands provided 697 million EUR of military aid until December. Ukrainian officials said thanks."
    _, result = code(extractor, text)
    assert [c[:3] for c in commitments(result)] == [("military", ["NLD"], ["UKR"])]


def test_a_country_named_in_a_title_is_no_bystander(extractor):
    text = "U.K. Prime Minister Keir Starmer acknowledged the challenges posed by continued Russian attacks."
    _, result = code(extractor, text)
    assert [e[:3] for e in events(result)] == [("ASSAULT", ["RUS"], [])]  # not aimed at the UK


def test_pronoun_subject_of_a_reported_clause_is_the_speaker(extractor):
    _, result = code(extractor, "Kenya said it would recognise the new government of Somalia.")
    assert [e[:3] for e in events(result)] == [("AGREE", ["KEN"], ["SOM"])]


def test_willing_to_act_takes_the_copulas_subject(extractor):
    _, result = code(extractor, "Portugal is willing to send doctors to Angola.")
    assert [e[:2] for e in events(result)] == [("AGREE", ["PRT"])]


def test_unnamed_group_stands_for_the_country_it_acts_in(extractor):
    _, result = code(extractor, "Protesters in Nairobi rioted on Friday.")
    assert [e[:3] for e in events(result)] == [("PROTEST", ["KEN"], ["KEN"])]  # the capital names the country
    _, result = code(extractor, "Hundreds of students marched through the streets, Peruvian police said.")
    assert [e[:2] for e in events(result)] == [("PROTEST", ["PER"])]  # the one country of the sentence
    _, result = code(extractor, "Officers said students marched while Chilean and Bolivian diplomats met.")
    assert not [e for e in events(result) if e[0] == "PROTEST"]  # two countries: no guess


def test_hunger_strike_and_road_blocks_are_protests(extractor):
    _, result = code(extractor, "Bolivian miners began a hunger strike on Monday.")
    assert [e[0] for e in events(result)] == ["PROTEST"]
    assert result.events[0]["cameo_code"] == "142"
    _, result = code(extractor, "Bolivian farmers blocked highways near La Paz.")
    assert [(e["event_type"], e["cameo_code"]) for e in result.events] == [("PROTEST", "144")]
    _, result = code(extractor, "Russia blocked the resolution on Syria.")
    assert [e[0] for e in events(result)] == ["REJECT"]  # blocking a resolution is not obstructing passage


def test_refusal_is_aimed_at_whom_the_refused_act_concerns(extractor):
    _, result = code(extractor, "Chile refused to extradite the suspect to Argentina.")
    assert ("REJECT", ["CHL"], ["ARG"]) in [e[:3] for e in events(result)]


def test_a_stated_refusal_to_cooperate_is_a_rejection(extractor):
    _, result = code(extractor, "Ecuador will not accept the mediation of Brazil.")
    assert [e[:3] for e in events(result)] == [("REJECT", ["ECU"], ["BRA"])]


def test_an_act_conditional_on_the_other_side_is_an_ultimatum(extractor):
    _, result = code(extractor, "Ghana will withdraw its ambassador from Togo unless the border is reopened.")
    assert ("THREATEN", ["GHA"], ["TGO"]) in [e[:3] for e in events(result)]


def test_agreement_on_a_clause_without_actors_codes_the_agreeing(extractor):
    _, result = code(extractor, "Peru and Chile agreed that their navies should cooperate more closely.")
    assert [e[:2] for e in events(result)] == [("AGREE", ["PER", "CHL"])]


def test_unknown_person_acts_for_the_one_country_of_the_sentence(extractor):
    _, result = code(extractor, "Interior Minister Tomas Vrbka resigned after protests in Slovakia.")
    assert result.actors["PER:tomas-vrbka"].affiliation_id == "SVK"


def test_unnamed_group_target_is_its_country_even_the_sources_own(extractor):
    _, result = code(extractor, "The Peruvian government accused rebels in Peru of attacking a convoy.")
    assert ("ACCUSE", ["PER"], ["PER"]) in [e[:3] for e in events(result)]


def test_participle_modifier_acts_for_the_noun_it_modifies(extractor):
    _, result = code(extractor, "Guards detained students protesting in Caracas.")
    assert ("PROTEST", ["VEN"], ["VEN"]) in [e[:3] for e in events(result)]


def test_announced_conflict_act_is_coded_as_that_act(extractor):
    _, result = code(extractor, "Spain announced a suspension of flights to Morocco.")
    assert [e[:3] for e in events(result)] == [("SANCTION", ["ESP"], ["MAR"])]


def test_formal_protest_with_a_government_is_a_complaint(extractor):
    _, result = code(extractor, "Greece lodged a protest with Turkey.")
    assert [(e["event_type"], e["cameo_code"], e["target_actor_ids"]) for e in result.events] == [
        ("ACCUSE", "114", ["TUR"])
    ]


def test_strengthening_forces_is_mobilisation(extractor):
    _, result = code(extractor, "India strengthened its forces near Pakistan.")
    assert [e[:3] for e in events(result)] == [("MOBILIZE", ["IND"], ["PAK"])]


def test_a_weapon_stands_for_an_attacker_from_where_it_strikes(extractor):
    _, result = code(extractor, "Two Kenyan police officers were killed by a roadside bomb in Somalia.")
    assert [e[:3] for e in events(result)] == [("ASSAULT", ["SOM"], ["KEN"])]


def test_forcing_out_is_expulsion_and_cutting_aid_a_sanction(extractor):
    _, result = code(extractor, "Eritrea forced the UNHCR out of the country.")
    assert [(e["event_type"], e["cameo_code"]) for e in result.events] == [("SANCTION", "166")]
    _, result = code(extractor, "Canada reduced aid to Haiti.")
    assert [e[:3] for e in events(result)] == [("SANCTION", ["CAN"], ["HTI"])]
    _, result = code(extractor, "Canada reduced tariffs on Haiti.")
    assert not [e for e in events(result) if e[0] == "SANCTION"]  # only aid, supplies and the like


def test_organised_strike_is_a_protest(extractor):
    _, result = code(extractor, "Unions in Chile organized a general strike.")
    assert [(e["event_type"], e["cameo_code"], e["source_actor_ids"]) for e in result.events] == [
        ("PROTEST", "143", ["CHL"])
    ]


def test_an_ethnic_group_acts_for_the_country_it_lives_in(extractor):
    _, result = code(extractor, "Ethnic Hungarians rallied in Romania on Sunday.")
    assert [e[:2] for e in events(result)] == [("PROTEST", ["ROU"])]
    _, result = code(extractor, "Hungarians rallied in Romania on Sunday.")
    assert [e[:2] for e in events(result)] == [("PROTEST", ["HUN"])]  # no 'ethnic': the demonym names the state


def test_the_european_community_is_the_eu(extractor):
    _, result = code(extractor, "The European Community gave Mali 3 million dollars of aid.")
    assert [e[:3] for e in events(result)] == [("AID", ["IGO:EU"], ["MLI"])]


def test_reneging_prohibiting_and_hearings(extractor):
    _, result = code(extractor, "Bolivia reneged on its promise to Peru.")  # "to Peru" may attach to the verb
    assert [e[:3] for e in events(result)] == [("REJECT", ["BOL"], ["PER"])]
    _, result = code(extractor, "Norway prohibited arms exports to Belarus.")
    assert [e[:3] for e in events(result)] == [("SANCTION", ["NOR"], ["BLR"])]
    _, result = code(extractor, "Brazil's supreme court opened a hearing into the election.")
    assert [e[:2] for e in events(result)] == [("ACCUSE", ["BRA"])]


def test_a_resignation_is_a_retreat_and_refusing_one_a_rejection(extractor):
    _, result = code(extractor, "Prime Minister Boris Johnson stepped down as leader of the Conservative Party.")
    assert [(e["event_type"], e["cameo_code"]) for e in result.events] == [("RETREAT", "0831")]
    _, refusal = code(extractor, "Kenyan Vice-President Moody Awori has declined to resign despite growing pressure.")
    coded = [(e["event_type"], e["modality"]) for e in refusal.events]
    assert coded == [("REJECT", "asserted"), ("RETREAT", "negated")]


def test_diplomatic_ties_and_a_verbal_defence_are_support(extractor):
    _, result = code(extractor, "Sri Lanka has established diplomatic ties with Iran.")
    assert events(result) == [("SUPPORT", ["LKA"], ["IRN"], "asserted")]
    _, hubs = code(extractor, "Sri Lanka will establish a naval base in the south.")
    assert "SUPPORT" not in [e["event_type"] for e in hubs.events]  # "establish" only for ties and relations
    _, defence = code(extractor, "The United States defended the right of Israel to respond.")
    assert ("SUPPORT", ["USA"], ["ISR"], "asserted") in events(defence)


def test_a_verb_that_speeds_up_a_named_act_is_its_doer(extractor):
    _, result = code(extractor, "The United States speeded up the withdrawal of its forces from Panama.")
    assert events(result) == [("RETREAT", ["USA"], ["PAN"], "asserted")]


def test_fighting_a_disease_or_poverty_is_no_attack(extractor):
    _, result = code(extractor, "The United States and the European Union will fight the COVID-19 pandemic together.")
    assert "ASSAULT" not in [e["event_type"] for e in result.events]
    _, war = code(extractor, "Ukrainian forces fought Russian troops near Bakhmut.")
    assert events(war) == [("ASSAULT", ["UKR"], ["RUS"], "asserted")]


def test_rescinding_a_sanctions_waiver_tightens_the_sanctions(extractor):
    _, result = code(extractor, "The United States will rescind its sanctions waivers for Iran.")
    assert events(result) == [("SANCTION", ["USA"], ["IRN"], "future")]
    _, eased = code(extractor, "The United States lifted sanctions on Syria.")
    assert events(eased) == [("RETREAT", ["USA"], ["SYR"], "asserted")]


def test_a_phrasal_verb_is_another_word(extractor):
    _, result = code(extractor, "President Biden said the United States will never give up on the hostages.")
    assert "AID" not in [e["event_type"] for e in result.events]
    _, beaten = code(extractor, "Israeli soldiers beat up Palestinian detainees.")
    assert events(beaten) == [("ASSAULT", ["ISR"], ["PSE"], "asserted")]  # listed with its particle
    _, kidnapped = code(extractor, "Afghan rebels have kidnapped up to 16 Russian advisers.")
    assert events(kidnapped) == [("ASSAULT", ["AFG"], ["RUS"], "asserted")]  # "up to 16" is a quantity
