"""Dates stated or implied in a sentence, resolved against the article's publication date."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
_EXPLICIT = [
    re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})"),  # January 6, 2026
    re.compile(r"(\d{1,2})\s+" + _MONTH + r",?\s+(\d{4})"),  # 6 January 2026
]
_WEEKDAY = re.compile(r"\b(?:on|last|this|next)?\s*(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_RELATIVE = {"yesterday": -1, "today": 0, "tomorrow": 1, "last week": -7, "next week": 7}


def resolve_date(sentence: str, published: date | None) -> date | None:
    """An explicit date in the sentence, else a relative one ("on Tuesday", "yesterday", "last week")
    resolved against `published`; None when the sentence gives none."""
    for pattern in _EXPLICIT:
        m = pattern.search(sentence)
        if m:
            groups = m.groups()
            month_name, day, year = (
                (groups[0], groups[1], groups[2]) if pattern is _EXPLICIT[0] else (groups[1], groups[0], groups[2])
            )
            try:
                return date(int(year), MONTHS[month_name.lower()], int(day))
            except ValueError:
                continue
    if published is None:
        return None
    lowered = sentence.lower()
    for phrase, days in _RELATIVE.items():
        if re.search(rf"\b{phrase}\b", lowered):
            return published + timedelta(days=days)
    m = _WEEKDAY.search(sentence)
    if m:
        target = WEEKDAYS.index(m.group(1).lower())
        forward = m.group(0).lower().startswith("next")
        delta = (target - published.weekday()) % 7
        if forward:
            return published + timedelta(days=delta or 7)
        return published - timedelta(days=(published.weekday() - target) % 7)
    m = re.search(r"\b(?:next|last) year\b", lowered)
    if m:
        return date(published.year + (1 if "next" in m.group(0) else -1), 1, 1)
    return None
