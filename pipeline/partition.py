"""The partition key of a nightly run, computed in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime


def partition_key(
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    logical_date: datetime | None = None,
    requested: str | None = None,
) -> str:
    """`YYYY-MM-DD` of the day the run collects news for.

    The nightly DAG uses a cron *data interval* timetable: the run at 02:00 UTC on 8 January covers
    [7 Jan 02:00, 8 Jan 02:00) and is partition 2026-01-07 (its data interval start, in UTC).
    A run with an empty interval (a trigger timetable) is partitioned by its logical date.
    `requested` (the DAG's `partition_date` param) reprocesses a chosen partition and wins over both.
    """
    if requested:
        return parse_partition(requested)
    if data_interval_start is not None and data_interval_end is not None and data_interval_end > data_interval_start:
        return data_interval_start.astimezone(UTC).date().isoformat()
    moment = logical_date or data_interval_start or data_interval_end
    if moment is None:
        raise ValueError("a run needs a data interval or a logical date to be partitioned")
    return moment.astimezone(UTC).date().isoformat()


def parse_partition(value: str) -> str:
    """Validate a partition date given by a user; returns it in canonical form."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise ValueError(f"the partition date must be YYYY-MM-DD, got {value!r}") from exc
