"""The cross-article models (pipeline/models.py) on two nights of hand-written articles (conftest.TWO_NIGHTS)."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from pipeline import models, warehouse


@pytest.fixture(scope="module")
def con(two_nights):
    with duckdb.connect(str(two_nights / "geowire.duckdb"), read_only=True) as connection:
        yield connection


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    result = con.execute(sql, params or [])
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, r, strict=True)) for r in result.fetchall()]


def test_every_model_exists_with_a_comment(con):
    comments = dict(
        con.execute("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'news'").fetchall()
    )
    for name in models.MODELS:
        assert comments.get(name), name


def test_tracker_merges_one_pledge_reported_by_two_outlets(con):
    [nasams] = rows(
        con, "SELECT * FROM news.commitment_tracker WHERE donor_affiliations = ['NOR'] AND category = 'military'"
    )
    assert nasams["recipient_affiliations"] == ["UKR"]
    assert nasams["n_reports"] == nasams["n_articles"] == nasams["n_sources"] == 2
    assert nasams["sources"] == ["Harbour Gazette", "Northern Wire"]
    assert nasams["latest_status"] == "pledged" and nasams["first_announced"] == date(2026, 1, 5)
    evidence = [h["evidence"] for h in nasams["history"]]
    assert any(e.startswith("Norway pledged two NASAMS") for e in evidence)
    assert any(e.startswith("Norway promised Ukraine two NASAMS") for e in evidence)


def test_tracker_follows_a_commitment_across_nights(con):
    """The pledge by the Chancellor (a person affiliated to Germany) and by Germany is one commitment; the delivery
    reported the next night names no amount and joins it, the only German military commitment to Ukraine."""
    [aid] = rows(
        con,
        "SELECT * FROM news.commitment_tracker WHERE donor_affiliations = ['DEU'] AND recipient_affiliations = ['UKR'] "
        "AND category = 'military'",
    )
    assert (aid["amount"], aid["currency"]) == (500_000_000, "EUR")
    assert aid["n_articles"] == 3 and aid["n_sources"] == 2
    assert [(h["announced_date"], h["status"]) for h in aid["history"]] == [
        (date(2026, 1, 5), "pledged"),
        (date(2026, 1, 5), "pledged"),
        (date(2026, 1, 7), "delivered"),
    ]
    assert (aid["latest_status"], aid["latest_status_date"]) == ("delivered", date(2026, 1, 7))
    assert aid["first_announced"] == date(2026, 1, 5) and aid["first_partition_date"] == date(2026, 1, 6)
    assert aid["history"][-1]["evidence"].startswith("Germany delivered the military aid")
    # Every coded commitment lands in exactly one tracker row.
    [(tracked, coded)] = con.execute(
        "SELECT (SELECT sum(len(commitment_ids)) FROM news.commitment_tracker), "
        "(SELECT count(*) FROM news.commitments)"
    ).fetchall()
    assert tracked == coded


def test_clusters_group_one_event_reported_by_several_articles(con):
    attacks = rows(
        con,
        "SELECT * FROM news.event_clusters WHERE event_type = 'ASSAULT' AND source_affiliations = ['RUS'] "
        "AND target_affiliations = ['UKR'] ORDER BY first_event_date",
    )
    # Saturday's attack is two days before Monday's: its own cluster. Monday's, reported by two outlets, and
    # Tuesday's, a day later, chain into one.
    assert [(c["first_event_date"], c["last_event_date"]) for c in attacks] == [
        (date(2026, 1, 3), date(2026, 1, 3)),
        (date(2026, 1, 5), date(2026, 1, 6)),
    ]
    saturday, monday = attacks
    assert (saturday["n_articles"], saturday["n_sources"]) == (1, 1)
    assert (monday["n_events"], monday["n_articles"], monday["n_sources"]) == (3, 3, 2)
    assert monday["sources"] == ["Harbour Gazette", "Northern Wire"]
    assert (monday["first_seen"], monday["last_seen"]) == (date(2026, 1, 5), date(2026, 1, 7))
    [talks] = rows(con, "SELECT * FROM news.event_clusters WHERE event_type = 'CONSULT'")
    assert talks["source_affiliations"] == ["FRA", "POL"] and talks["target_affiliations"] == []
    assert (talks["n_articles"], talks["n_sources"]) == (2, 2)
    # "German Chancellor Friedrich Merz pledged" and "Germany promised": one source affiliation, one cluster.
    [pledge] = rows(
        con,
        "SELECT * FROM news.event_clusters WHERE event_type = 'AGREE' AND source_affiliations = ['DEU'] "
        "AND first_event_date = '2026-01-05'",
    )
    assert pledge["n_articles"] == 2 and len(pledge["event_ids"]) == 2
    [(clustered, events)] = con.execute(
        "SELECT (SELECT sum(n_events) FROM news.event_clusters), "
        "(SELECT count(*) FROM news.events WHERE modality IN ('asserted', 'future'))"
    ).fetchall()
    assert clustered == events


def test_dyad_relations_per_pair_and_week(con):
    relations = {
        (r["source_affiliation"], r["target_affiliation"], r["iso_week"]): r
        for r in rows(con, "SELECT * FROM news.dyad_relations")
    }
    assert relations[("RUS", "UKR", "2026-W01")]["material_conflict"] == 1  # Saturday 3 January
    assert relations[("RUS", "UKR", "2026-W02")]["material_conflict"] == 3
    assert relations[("RUS", "UKR", "2026-W02")]["week_start"] == date(2026, 1, 5)
    german = relations[("DEU", "UKR", "2026-W02")]
    # The Chancellor's pledge has two German sources (Germany, Merz) but counts once.
    [(expected_events, expected_goldstein)] = con.execute(
        "SELECT count(*), avg(goldstein) FROM news.events "
        "WHERE list_contains(target_actor_ids, 'UKR') AND list_has_any(source_actor_ids, ['DEU', 'PER:friedrich-merz'])"
    ).fetchall()
    assert german["n_events"] == expected_events == 3
    assert german["mean_goldstein"] == pytest.approx(expected_goldstein)
    assert german["verbal_cooperation"] + german["material_cooperation"] == 3
    assert not any(source in ("FRA", "POL") for source, _, _ in relations)  # talks with no target: no pair


def test_models_rebuild_idempotently(two_nights, tmp_path):
    copy = tmp_path / "geowire.duckdb"
    shutil.copy(two_nights / "geowire.duckdb", copy)
    with duckdb.connect(str(copy)) as connection:
        before = {m: connection.execute(f"SELECT * FROM news.{m} ORDER BY ALL").fetchall() for m in models.MODELS}
        warehouse.ensure_schema(connection)
        warehouse.ensure_schema(connection)
        after = {m: connection.execute(f"SELECT * FROM news.{m} ORDER BY ALL").fetchall() for m in models.MODELS}
    assert after == before and all(before.values())
