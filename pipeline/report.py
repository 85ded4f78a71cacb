"""The run report: one self-contained HTML page per partition, `<warehouse>/reports/<date>.html`.

Everything is inline: the CSS, and the charts as SVG laid out here in Python; the page has no script, no font and
no URL, and its Content-Security-Policy forbids loading anything, so it opens from disk with no server and no
network. All data goes through Jinja2's autoescape. Nothing depends on the clock (stage timings are left out), so
the same warehouse gives the same bytes.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline import __version__, contracts, fs
from pipeline.fs import Location
from pipeline.warehouse import connect_read_only, database_path

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUAD_CLASSES = {
    1: ("verbal cooperation", "#4e79a7"),
    2: ("material cooperation", "#59a14f"),
    3: ("verbal conflict", "#f28e2b"),
    4: ("material conflict", "#e15759"),
}
CATEGORY_COLORS = {
    "security_guarantee": "#4e79a7",
    "military": "#e15759",
    "financial": "#59a14f",
    "humanitarian": "#edc948",
    "diplomatic": "#b07aa1",
    "sanctions": "#f28e2b",
    "other": "#9c9c9c",
}
MAX_DAYS = 31  # columns in the events-per-day chart: the latest days of the partition's events
TOP_ACTORS = 12
MAX_NETWORK_NODES = 24


@dataclass
class Chart:
    """An SVG drawing as primitives the template renders; coordinates are rounded so output is stable."""

    title: str
    width: int
    height: int
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)
    rects: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    paths: list[dict[str, Any]] = field(default_factory=list)
    circles: list[dict[str, Any]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, str]] = field(default_factory=list)
    note: str = ""

    def rect(self, x: float, y: float, w: float, h: float, fill: str, title: str) -> None:
        self.rects.append({"x": _r(x), "y": _r(y), "w": _r(w), "h": _r(h), "fill": fill, "title": title})

    def text(self, x: float, y: float, text: str, anchor: str = "start", rotate: str = "", title: str = "") -> None:
        self.texts.append({"x": _r(x), "y": _r(y), "text": text, "anchor": anchor, "rotate": rotate, "title": title})

    @property
    def empty(self) -> bool:
        return not (self.rects or self.paths or self.circles)


def report_path(warehouse: str | Location, date: str) -> Path:
    """Beside the DuckDB file it is drawn from: local, also for a warehouse on object storage."""
    return fs.local_dir(warehouse) / "reports" / f"{date}.html"


def write_report(warehouse: str | Location, date: str) -> Path:
    """Render the report of partition `date` and swap it into place; returns its path."""
    path = report_path(warehouse, date)
    html = render_report(fs.location(warehouse), date)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


def render_report(warehouse: Location, date: str) -> str:
    summary_file = warehouse / "runs" / f"date={date}" / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else None
    if not database_path(warehouse).exists():
        raise FileNotFoundError(f"no warehouse database at {database_path(warehouse)}")
    with connect_read_only(warehouse) as con:
        data = _query(con, date)
    if summary is None and not data["loaded_rows"]:
        raise LookupError(f"no run for {date} in {warehouse}: no summary and no loaded rows")
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
    )
    names = data["names"]
    return env.get_template("report.html.j2").render(
        date=date,
        version=__version__,
        schema_version=contracts.schema_version(),
        tables=contracts.table_names(),
        summary=summary,
        quality=_quality(warehouse, date),
        loaded=data["loaded"],
        charts=[
            events_per_day_chart(data["events_per_day"]),
            top_actors_chart(data["top_actors"]),
            commitments_chart(data["commitments_by_donor"]),
            network_chart(data["network"]),
        ],
        commitments=[_commitment_row(row, names, date) for row in data["commitments"]],
        clusters=data["clusters"],
        sources=data["sources"],
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    result = con.execute(sql, params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _query(con: duckdb.DuckDBPyConnection, date: str) -> dict[str, Any]:
    loaded = {
        name: _rows(con, f"SELECT count(*) AS n FROM news.{name} WHERE partition_date = ?", [date])[0]["n"]
        for name in contracts.table_names()
    }
    return {
        "loaded": loaded,
        "loaded_rows": sum(loaded.values()),
        "names": {r["actor_id"]: r["name"] for r in _rows(con, "SELECT actor_id, name FROM news.actor_dim", [])},
        "events_per_day": _rows(
            con,
            "SELECT event_date, quad_class, count(*) AS n FROM news.events WHERE partition_date = ? "
            "GROUP BY ALL ORDER BY ALL",
            [date],
        ),
        "top_actors": _rows(
            con,
            """WITH roles AS (
                   SELECT unnest(list_distinct(source_actor_ids)) AS actor_id, 'source' AS role
                   FROM news.events WHERE partition_date = ?
                   UNION ALL
                   SELECT unnest(list_distinct(target_actor_ids)), 'target' FROM news.events WHERE partition_date = ?)
               SELECT actor_id, coalesce(any_value(d.name), actor_id) AS name,
                      count(*) FILTER (WHERE role = 'source') AS as_source,
                      count(*) FILTER (WHERE role = 'target') AS as_target
               FROM roles LEFT JOIN news.actor_dim d USING (actor_id)
               GROUP BY actor_id ORDER BY as_source + as_target DESC, actor_id LIMIT ?""",
            [date, date, TOP_ACTORS],
        ),
        "commitments_by_donor": _rows(
            con,
            """SELECT donor_affiliation, coalesce(any_value(d.name), donor_affiliation) AS name, category,
                      count(DISTINCT commitment_id) AS n
               FROM news.commitments_by_donor c LEFT JOIN news.actor_dim d ON d.actor_id = c.donor_affiliation
               WHERE c.partition_date = ? GROUP BY donor_affiliation, category ORDER BY ALL""",
            [date],
        ),
        "network": _rows(
            con,
            """SELECT source_affiliation, target_affiliation, count(DISTINCT event_id) AS n,
                      avg(goldstein) AS mean_goldstein
               FROM news.event_dyads
               WHERE partition_date = ? AND target_affiliation IS NOT NULL AND modality IN ('asserted', 'future')
               GROUP BY ALL ORDER BY ALL""",
            [date],
        ),
        "commitments": _rows(
            con,
            """SELECT c.*, a.source, a.title, t.commitment_key, t.first_announced, t.first_partition_date,
                      t.latest_status, t.n_articles AS tracker_articles, t.n_sources AS tracker_sources
               FROM news.commitments c JOIN news.articles a USING (article_id)
               LEFT JOIN (SELECT *, unnest(commitment_ids) AS commitment_id FROM news.commitment_tracker) t
                    USING (commitment_id)
               WHERE c.partition_date = ? ORDER BY c.article_id, c.char_start, c.commitment_id""",
            [date],
        ),
        "clusters": _rows(
            con,
            """SELECT cluster_id, event_type, source_affiliations, target_affiliations, first_event_date,
                      last_event_date, n_articles, n_sources, sources, example_evidence
               FROM news.event_clusters c
               WHERE n_articles > 1 AND EXISTS (
                   SELECT 1 FROM news.events e WHERE e.partition_date = ? AND list_contains(c.event_ids, e.event_id))
               ORDER BY n_articles DESC, first_event_date, cluster_id""",
            [date],
        ),
        "sources": _rows(
            con,
            """SELECT source, count(*) AS articles, count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
                      sum(word_count) AS words
               FROM news.articles WHERE partition_date = ? GROUP BY source ORDER BY articles DESC, source""",
            [date],
        ),
    }


def _quality(warehouse: Location, date: str) -> list[dict[str, Any]]:
    """Per table: expectations evaluated, passed and failed, with what failed (from the GX result files)."""
    tables = []
    for name in contracts.table_names():
        path = warehouse / "quality" / f"date={date}" / f"{name}.json"
        if not path.exists():
            tables.append({"table": name, "found": False})
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        stats = result.get("statistics", {})
        failed = []
        for r in result.get("results", []):
            if r.get("success"):
                continue
            config = r.get("expectation_config", {})
            kwargs = config.get("kwargs", {})
            column = kwargs.get("column") or ", ".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
            failed.append(
                {
                    "expectation": config.get("type", "?"),
                    "column": column,
                    "unexpected": r.get("result", {}).get("unexpected_count"),
                    "on_failure": config.get("meta", {}).get("on_failure", ""),
                }
            )
        tables.append(
            {
                "table": name,
                "found": True,
                "success": bool(result.get("success")),
                "evaluated": stats.get("evaluated_expectations", 0),
                "passed": stats.get("successful_expectations", 0),
                "failed": failed,
            }
        )
    return tables


def _commitment_row(row: dict[str, Any], names: dict[str, str], date: str) -> dict[str, Any]:
    def who(ids: list[str]) -> str:
        return ", ".join(names.get(i, i) for i in ids) or "-"

    amount = f"{row['currency'] or ''} {row['amount']:,.0f}".strip() if row["amount"] is not None else ""
    first_run = row["first_partition_date"]
    if first_run is None or str(first_run) == date:
        tracker = "new"
    else:
        tracker = f"first announced {row['first_announced']}, first loaded {first_run}"
    return {
        "donors": who(row["donor_actor_ids"]),
        "recipients": who(row["recipient_actor_ids"]),
        "category": row["category"] + (f" / {row['subtype']}" if row["subtype"] else ""),
        "description": row["description"],
        "amount": amount,
        "status": row["status"],
        "conditions": row["conditions"] or "",
        "announced": row["announced_date"],
        "evidence": row["evidence"],
        "source": row["source"],
        "tracker": tracker,
        "tracker_sources": row["tracker_sources"],
        "latest_status": row["latest_status"],
    }


# ---------------------------------------------------------------- charts


def _r(x: float) -> float:
    return round(x, 1)


def _nice_max(value: int) -> tuple[int, int]:
    """An axis maximum >= value with at most five ticks, each a step of 1, 2 or 5 times a power of ten."""
    value = max(value, 1)
    for exponent in itertools.count():
        for factor in (1, 2, 5):
            step = factor * 10**exponent
            if math.ceil(value / step) <= 5:
                return math.ceil(value / step) * step, step
    raise AssertionError("unreachable")


def events_per_day_chart(rows: list[dict[str, Any]]) -> Chart:
    """Stacked columns: the partition's events per event date, by quad class (the latest MAX_DAYS dates)."""
    days = sorted({r["event_date"] for r in rows})
    shown = days[-MAX_DAYS:]
    counts = {(r["event_date"], r["quad_class"]): r["n"] for r in rows}
    slot = min(36.0, 760 / max(len(shown), 1))
    left, top, plot_h, bottom = 44, 12, 200, 70
    chart = Chart(
        "Events per day by quad class",
        max(320, int(left + slot * len(shown) + 16)),
        top + plot_h + bottom,
        legend=[(label, colour) for label, colour in QUAD_CLASSES.values()],
    )
    if len(days) > len(shown):
        hidden = sum(r["n"] for r in rows if r["event_date"] < shown[0])
        chart.note = f"{hidden} events dated before {shown[0]} are not shown."
    totals = [sum(counts.get((d, q), 0) for q in QUAD_CLASSES) for d in shown]
    axis_max, step = _nice_max(max(totals, default=0))
    scale = plot_h / axis_max
    _value_axis(chart, left, top, plot_h, axis_max, step, vertical=True)
    for i, day in enumerate(shown):
        x, y = left + i * slot + slot * 0.15, top + plot_h
        for quad, (label, colour) in QUAD_CLASSES.items():
            n = counts.get((day, quad), 0)
            if n:
                h = n * scale
                y -= h
                chart.rect(x, y, slot * 0.7, h, colour, f"{day} {label}: {n}")
        lx, ly = _r(x + slot * 0.35), top + plot_h + 12
        chart.text(lx, ly, str(day), anchor="end", rotate=f"-45 {lx} {ly}")
    return chart


def _value_axis(chart: Chart, left: float, top: float, length: float, axis_max: int, step: int, vertical: bool) -> None:
    for tick in range(0, axis_max + 1, step):
        offset = length * tick / axis_max
        if vertical:
            y = _r(top + length - offset)
            chart.lines.append({"x1": left, "y1": y, "x2": chart.width - 8, "y2": y, "class": "grid"})
            chart.text(left - 6, y + 4, str(tick), anchor="end")
        else:
            x = _r(left + offset)
            chart.lines.append({"x1": x, "y1": top, "x2": x, "y2": chart.height - 24, "class": "grid"})
            chart.text(x, chart.height - 8, str(tick), anchor="middle")


Segment = tuple[int, str, str]  # value, colour, name


def _bar_chart(title: str, bars: list[tuple[str, str, list[Segment]]], legend: list[tuple[str, str]]) -> Chart:
    """Horizontal stacked bars; each bar is (label, tooltip, [(value, colour, segment name)])."""
    left, top, row, plot_w = 170, 8, 24, 420
    chart = Chart(title, left + plot_w + 48, top + row * max(len(bars), 1) + 30, legend=legend)
    axis_max, step = _nice_max(max((sum(v for v, _, _ in segs) for _, _, segs in bars), default=0))
    _value_axis(chart, left, top, plot_w, axis_max, step, vertical=False)
    scale = plot_w / axis_max
    for i, (label, tooltip, segments) in enumerate(bars):
        y, x = top + i * row + 4, float(left)
        chart.text(left - 8, y + 12, label, anchor="end", title=tooltip)
        for value, colour, name in segments:
            if value:
                w = value * scale
                chart.rect(x, y, w, row - 8, colour, f"{tooltip}: {name} {value}")
                x += w
        chart.text(x + 6, y + 12, str(sum(v for v, _, _ in segments)))
    return chart


def top_actors_chart(rows: list[dict[str, Any]]) -> Chart:
    as_source, as_target = ("as source", "#4e79a7"), ("as target", "#a0cbe8")
    bars = [
        (
            _short(r["name"]),
            f"{r['name']} ({r['actor_id']})",
            [(r["as_source"], as_source[1], as_source[0]), (r["as_target"], as_target[1], as_target[0])],
        )
        for r in rows
    ]
    return _bar_chart("Top actors: events as source and as target", bars, [as_source, as_target])


def commitments_chart(rows: list[dict[str, Any]]) -> Chart:
    names = {r["donor_affiliation"]: r["name"] for r in rows}
    counts = {(r["donor_affiliation"], r["category"]): r["n"] for r in rows}
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["donor_affiliation"]] += r["n"]
    bars = [
        (
            _short(names[donor]),
            f"{names[donor]} ({donor})",
            [(counts.get((donor, c), 0), colour, c) for c, colour in CATEGORY_COLORS.items()],
        )
        for donor in sorted(totals, key=lambda d: (-totals[d], d))
    ]
    legend = [(c, colour) for c, colour in CATEGORY_COLORS.items() if any(c == cat for _, cat in counts)]
    return _bar_chart("Commitments by donor and category", bars, legend)


def _goldstein_colour(mean: float) -> tuple[str, str]:
    if mean >= 1:
        return "cooperation", "#59a14f"
    if mean <= -1:
        return "conflict", "#e15759"
    return "neutral", "#9c9c9c"


def network_chart(rows: list[dict[str, Any]]) -> Chart:
    """Affiliations on a circle, the most active first; an arrow per directed pair, as wide as its event count and
    coloured by its mean Goldstein score. Self-pairs (domestic events) are not drawn."""
    edges = [r for r in rows if r["source_affiliation"] != r["target_affiliation"]]
    degree: dict[str, int] = {}
    for e in edges:
        for node in (e["source_affiliation"], e["target_affiliation"]):
            degree[node] = degree.get(node, 0) + e["n"]
    nodes = sorted(degree, key=lambda n: (-degree[n], n))[:MAX_NETWORK_NODES]
    size, radius = 520, 190
    centre = size / 2
    chart = Chart(
        "Actor network of the night (affiliations)",
        size,
        size,
        legend=[
            ("cooperation (mean Goldstein >= 1)", _goldstein_colour(1)[1]),
            ("conflict (<= -1)", _goldstein_colour(-1)[1]),
            ("neutral", _goldstein_colour(0)[1]),
        ],
    )
    if len(degree) > len(nodes):
        chart.note = f"The {len(nodes)} most active of {len(degree)} affiliations are shown."
    chart.markers = [
        {"id": f"arrow-{kind}", "fill": colour} for kind, colour in map(_goldstein_colour, (1, -1, 0))
    ]
    top_degree = max(degree.values(), default=1)
    top_edge = max((e["n"] for e in edges), default=1)
    position, node_radius = {}, {}
    for i, node in enumerate(nodes):
        angle = 2 * math.pi * i / len(nodes) - math.pi / 2
        position[node] = (centre + radius * math.cos(angle), centre + radius * math.sin(angle), angle)
        node_radius[node] = 5 + 9 * math.sqrt(degree[node] / top_degree)
    for e in edges:
        a, b = e["source_affiliation"], e["target_affiliation"]
        if a not in position or b not in position:
            continue
        (x1, y1, _), (x2, y2, _) = position[a], position[b]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        ux, uy = dx / length, dy / length
        # Bend each arrow to its right, so that A->B and B->A stay apart.
        cx, cy = (x1 + x2) / 2 - uy * length * 0.12, (y1 + y2) / 2 + ux * length * 0.12
        ex, ey = cx - x2, cy - y2
        end = math.hypot(ex, ey)
        tx, ty = x2 + ex / end * (node_radius[b] + 2), y2 + ey / end * (node_radius[b] + 2)
        kind, colour = _goldstein_colour(e["mean_goldstein"])
        chart.paths.append(
            {
                "d": f"M{_r(x1)},{_r(y1)} Q{_r(cx)},{_r(cy)} {_r(tx)},{_r(ty)}",
                "stroke": colour,
                "width": _r(1 + 3 * e["n"] / top_edge),
                "marker": f"arrow-{kind}",
                "title": f"{a} -> {b}: {e['n']} events, mean Goldstein {e['mean_goldstein']:.1f}",
            }
        )
    for node in nodes:
        x, y, angle = position[node]
        chart.circles.append(
            {"cx": _r(x), "cy": _r(y), "r": _r(node_radius[node]), "title": f"{node}: {degree[node]} events"}
        )
        lx, ly = x + (node_radius[node] + 6) * math.cos(angle), y + (node_radius[node] + 6) * math.sin(angle)
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        chart.text(lx, ly + 4, node, anchor=anchor)
    return chart


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
