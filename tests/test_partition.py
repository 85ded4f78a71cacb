from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.partition import parse_partition, partition_key

UTC = UTC


def test_nightly_run_is_partitioned_by_its_data_interval_start():
    start = datetime(2026, 1, 7, 2, tzinfo=UTC)
    assert partition_key(start, start + timedelta(days=1), start) == "2026-01-07"


def test_interval_start_is_taken_in_utc():
    start = datetime(2026, 1, 8, 1, tzinfo=timezone(timedelta(hours=3)))  # 2026-01-07 22:00 UTC
    assert partition_key(start, start + timedelta(days=1)) == "2026-01-07"


def test_empty_interval_uses_the_logical_date():
    moment = datetime(2026, 1, 7, 15, tzinfo=UTC)
    assert partition_key(moment, moment, moment) == "2026-01-07"
    assert partition_key(None, None, moment) == "2026-01-07"


def test_requested_partition_wins():
    start = datetime(2026, 1, 5, 2, tzinfo=UTC)
    assert partition_key(start, start + timedelta(days=1), start, requested="2026-01-07") == "2026-01-07"
    with pytest.raises(ValueError):
        partition_key(start, start + timedelta(days=1), start, requested="7 Jan")


def test_no_date_at_all_is_an_error():
    with pytest.raises(ValueError):
        partition_key(None, None, None)


def test_user_dates_are_validated():
    assert parse_partition("2026-01-07") == "2026-01-07"
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_partition("07/01/2026")
