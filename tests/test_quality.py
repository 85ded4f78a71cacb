"""The GX gate on valid and invalid tables: bad rows are split off, bad tables stop the publish."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline import quality, storage


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    return quality.QualityGate(tmp_path_factory.mktemp("docs"))


def _mention(mid: str, start: int, end: int, text: str, actor: str = "USA") -> dict:
    return {
        "mention_id": mid,
        "article_id": "a1",
        "actor_id": actor,
        "sentence_index": 0,
        "char_start": start,
        "char_end": end,
        "text": text,
    }


TEXTS = {"a1": "The U.S. and NATO met."}


def _validate(gate, table_name, rows, run="date=2026-01-07"):
    data = storage.to_arrow(table_name, rows)
    checked = quality.derive_checks(table_name, data, TEXTS, set())
    result, failures, stops = gate.validate(table_name, checked, run)
    return data, result, failures, stops


def test_valid_rows_pass(gate):
    rows = [_mention("m1", 4, 8, "U.S."), _mention("m2", 13, 17, "NATO", "IGO:NATO")]
    _, result, failures, stops = _validate(gate, "actor_mentions", rows)
    assert result["success"] and not failures and not stops


def test_rows_failing_row_expectations_are_quarantined_with_the_reason(gate):
    rows = [
        _mention("m1", 4, 8, "U.S."),
        _mention("m2", 13, 17, "Nato", "IGO:NATO"),
        _mention("m3", 9, 9, "", "IGO:NATO"),
    ]
    data, result, failures, stops = _validate(gate, "actor_mentions", rows)
    assert not stops and not result["success"]
    passed, bad = quality.split_rows(data, failures)
    assert passed.column("mention_id").to_pylist() == ["m1"]
    reasons = dict(zip(bad.column("mention_id").to_pylist(), bad.column("quarantine_reason").to_pylist(), strict=True))
    assert "_span_matches_article" in reasons["m2"]
    assert "char_end" in reasons["m3"] and "_span_matches_article" not in reasons["m3"]


def test_duplicate_keys_stop_the_publish(gate):
    rows = [_mention("m1", 4, 8, "U.S."), _mention("m1", 4, 8, "U.S.")]
    _, _, _, stops = _validate(gate, "actor_mentions", rows)
    assert any("expect_column_values_to_be_unique(mention_id)" in s for s in stops)


def test_schema_drift_stops_the_publish(gate):
    data = storage.to_arrow("actors", [{"actor_id": "USA", "name": "United States", "actor_type": "country"}])
    drifted = data.append_column("extra", pa.array(["x"]))
    _, _, stops = gate.validate("actors", quality.derive_checks("actors", drifted, {}, set()), "date=2026-01-07")
    assert any("expect_table_columns_to_match_ordered_list" in s for s in stops)


def test_accepted_values_are_checked(gate):
    rows = [
        {"actor_id": "USA", "name": "United States", "actor_type": "country", "country_code": "USA"},
        {"actor_id": "usa", "name": "x", "actor_type": "nation"},
    ]
    data, _, failures, stops = _validate(gate, "actors", rows)
    assert not stops
    assert sorted(data.take(list(failures)).column("actor_id").to_pylist()) == ["usa"]


def test_data_docs_are_rendered(gate, tmp_path_factory):
    _validate(gate, "articles", [])
    gate.build_docs()
    docs = gate.context.get_docs_sites_urls()
    assert any(str(site["site_url"]).endswith("index.html") for site in docs)
