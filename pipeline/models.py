"""Cross-article models in the warehouse: what several articles and nights say together.

They are views, so they are always current with the loaded partitions and cost nothing to rebuild; `build_models`
(re)creates them idempotently every time the schema is ensured, i.e. at every load. Every model keys actors on
their affiliation (`coalesce(affiliation_id, actor_id)` from `news.actor_dim`), so "Germany" and "German Chancellor
Friedrich Merz" are the same party, and counts only events the text asserts or announces (modality `asserted` or
`future`): a negated or hypothetical act did not happen.
"""

from __future__ import annotations

import duckdb

SCHEMA = "news"

# Later in this list wins when two statuses of one commitment carry the same date.
STATUS_ORDER = ("proposed", "pledged", "agreed", "signed", "ratified", "delivered", "suspended", "withdrawn")
_STATUS_LIST = "[" + ", ".join(f"'{s}'" for s in STATUS_ORDER) + "]"

MACROS = {
    "affiliations": (
        "(ids)",
        """(SELECT coalesce(list_sort(list_distinct(list(coalesce(a.affiliation_id, x.id)))), []::VARCHAR[])
            FROM unnest(ids) AS x(id) LEFT JOIN news.actor_dim a ON a.actor_id = x.id)""",
        "Sorted distinct affiliations (affiliation_id, else the actor itself) of a list of actor ids.",
    ),
}

MODELS = {
    "event_clusters": """
        -- Events of one type between the same affiliation sets form a cluster while each is dated at most one day
        -- after the previous one (a chain: a report dated a day off by time zone or "overnight" still joins).
        WITH reported AS (
            SELECT e.event_id, e.article_id, e.event_type, e.event_date, e.evidence,
                   a.source, coalesce(a.published_at::DATE, e.partition_date) AS seen,
                   news.affiliations(e.source_actor_ids) AS source_affiliations,
                   news.affiliations(e.target_actor_ids) AS target_affiliations
            FROM news.events e JOIN news.articles a USING (article_id)
            WHERE e.modality IN ('asserted', 'future')),
        chained AS (
            SELECT *, CASE WHEN event_date - lag(event_date) OVER w <= 1 THEN 0 ELSE 1 END AS starts_cluster
            FROM reported
            WINDOW w AS (PARTITION BY event_type, source_affiliations, target_affiliations
                         ORDER BY event_date, event_id)),
        numbered AS (
            SELECT *, sum(starts_cluster) OVER (
                PARTITION BY event_type, source_affiliations, target_affiliations ORDER BY event_date, event_id
                ROWS UNBOUNDED PRECEDING) AS cluster_number
            FROM chained)
        SELECT substr(md5(concat_ws('|', event_type, list_aggregate(source_affiliations, 'string_agg', ','),
                                    list_aggregate(target_affiliations, 'string_agg', ','),
                                    min(event_date)::VARCHAR)), 1, 16) AS cluster_id,
               event_type, source_affiliations, target_affiliations,
               min(event_date) AS first_event_date, max(event_date) AS last_event_date,
               min(seen) AS first_seen, max(seen) AS last_seen,
               count(*) AS n_events, count(DISTINCT article_id) AS n_articles, count(DISTINCT source) AS n_sources,
               list_sort(list_distinct(list(source))) AS sources,
               list(event_id ORDER BY event_date, event_id) AS event_ids,
               arg_min(evidence, (event_date, event_id)) AS example_evidence
        FROM numbered
        GROUP BY event_type, source_affiliations, target_affiliations, cluster_number""",
    "commitment_tracker": f"""
        -- One row per real-world commitment: same donor and recipient affiliations, category and what is given
        -- (the amount with its currency when stated, else the items). A report that states neither joins the one
        -- commitment of its donors, recipients and category that does, if there is exactly one; else it stands alone.
        WITH reported AS (
            SELECT c.*, a.source,
                   news.affiliations(c.donor_actor_ids) AS donor_affiliations,
                   news.affiliations(c.recipient_actor_ids) AS recipient_affiliations,
                   CASE WHEN c.amount IS NOT NULL THEN concat_ws(' ', c.currency, printf('%.2f', c.amount))
                        WHEN c.items IS NOT NULL THEN lower(c.items) END AS what,
                   list_position({_STATUS_LIST}, c.status) AS status_rank
            FROM news.commitments c JOIN news.articles a USING (article_id)),
        specifics AS (
            SELECT donor_affiliations, recipient_affiliations, category, min(what) AS only_what
            FROM reported WHERE what IS NOT NULL
            GROUP BY ALL HAVING count(DISTINCT what) = 1),
        keyed AS (
            SELECT r.*, coalesce(r.what, s.only_what) AS commitment_what
            FROM reported r LEFT JOIN specifics s USING (donor_affiliations, recipient_affiliations, category))
        SELECT substr(md5(concat_ws('|', list_aggregate(donor_affiliations, 'string_agg', ','),
                                    list_aggregate(recipient_affiliations, 'string_agg', ','),
                                    category, coalesce(commitment_what, ''))), 1, 16) AS commitment_key,
               donor_affiliations, recipient_affiliations, category,
               list_sort(list_distinct(list(subtype))) AS subtypes,
               max(amount) AS amount, max(currency) AS currency,
               list_sort(list_distinct(list(items))) AS items,
               min(announced_date) AS first_announced, max(announced_date) AS last_reported,
               min(partition_date) AS first_partition_date,
               list(struct_pack(announced_date, status, article_id, source, partition_date, commitment_id, evidence)
                    ORDER BY announced_date, status_rank, article_id, commitment_id) AS history,
               history[-1].status AS latest_status, history[-1].announced_date AS latest_status_date,
               count(*) AS n_reports, count(DISTINCT article_id) AS n_articles, count(DISTINCT source) AS n_sources,
               list_sort(list_distinct(list(source))) AS sources,
               list_sort(list_distinct(list(conditions))) AS conditions,
               list(commitment_id ORDER BY announced_date, status_rank, article_id, commitment_id) AS commitment_ids
        FROM keyed
        GROUP BY donor_affiliations, recipient_affiliations, category, commitment_what""",
    "dyad_relations": """
        -- Directed pairs of affiliations per ISO week; an event counts once per pair however many of its actors
        -- share an affiliation. Events with no target have no pair and are left out.
        WITH pairs AS (
            SELECT DISTINCT event_id, source_affiliation, target_affiliation, event_date, quad_class, goldstein
            FROM news.event_dyads
            WHERE target_affiliation IS NOT NULL AND modality IN ('asserted', 'future'))
        SELECT source_affiliation, target_affiliation,
               date_trunc('week', event_date)::DATE AS week_start, strftime(event_date, '%G-W%V') AS iso_week,
               count(*) AS n_events,
               count(*) FILTER (WHERE quad_class = 1) AS verbal_cooperation,
               count(*) FILTER (WHERE quad_class = 2) AS material_cooperation,
               count(*) FILTER (WHERE quad_class = 3) AS verbal_conflict,
               count(*) FILTER (WHERE quad_class = 4) AS material_conflict,
               avg(goldstein) AS mean_goldstein
        FROM pairs
        GROUP BY ALL""",
}
MODEL_COMMENTS = {
    "event_clusters": (
        "One real-world event reported by one or more articles: same PLOVER type, same source and target affiliation "
        "sets, event dates chained at most one day apart; n_articles, n_sources, first/last event date and "
        "first/last seen (publication date), member event_ids."
    ),
    "commitment_tracker": (
        "One row per real-world commitment merged across articles and nights (donor and recipient affiliations, "
        "category, amount or items): first announced, first partition loaded, latest status (by date, then status "
        "order), history of statuses with their evidence, n_articles, n_sources."
    ),
    "dyad_relations": (
        "Per directed pair of affiliations and ISO week: events by quad class and mean Goldstein score "
        "(asserted and future events with a target)."
    ),
}


def build_models(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the macros and model views; needs the tables and `news.actor_dim`."""
    for name, (params, body, comment) in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {SCHEMA}.{name}{params} AS {body}").fetchall()
        con.execute(f"COMMENT ON MACRO {SCHEMA}.{name} IS '{comment}'").fetchall()
    for name, sql in MODELS.items():
        con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {sql}").fetchall()
        con.execute(f"COMMENT ON VIEW {SCHEMA}.{name} IS '{MODEL_COMMENTS[name]}'").fetchall()
