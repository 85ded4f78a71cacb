"""`geowire eval`: run the pipeline on a gold file (the ../shared/eval format) and score what it published,
with the matching rules of the project's scorer, an error breakdown by event type and the misses."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

TYPE_ALIASES = {"DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE", "INVESTIGATE": "ACCUSE", "FIGHT": "ASSAULT"}
CODE_ALIASES = {"JAP": "JPN", "ITL": "ITA", "ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "KSV": "XKX"}
GENERIC = {
    "IGO": "IGO:*",
    "NGO": "ORG:*",
    "IMG": "ORG:*",
    "MNC": "ORG:*",
    "ISM": "ORG:*",
    "UNO": "IGO:UN",
    "EUR": "IGO:EU",
}
SYMMETRIC = {"CONSULT", "COOPERATE"}


def norm_code(code: str) -> str:
    code = code.strip()
    return GENERIC.get(code) or CODE_ALIASES.get(code, code)


def norm_type(t: str) -> str:
    return TYPE_ALIASES.get(t.strip().upper(), t.strip().upper())


def code_match(gold: str, system: str) -> bool:
    return system.startswith(gold[:-1]) if gold.endswith(":*") else gold == system


def overlaps(gold: set[str], system: set[str]) -> bool:
    return any(code_match(g, s) for g in gold for s in system)


def event_match(g: dict, s: dict) -> bool:
    if g["type"] != s["type"]:
        return False
    if g["type"] in SYMMETRIC:
        gp, sp = g["sources"] | g["targets"], s["sources"] | s["targets"]
        return sum(1 for x in gp if any(code_match(x, y) for y in sp)) >= min(2, len(gp))
    return overlaps(g["sources"], s["sources"]) and (not g["targets"] or overlaps(g["targets"], s["targets"]))


def commitment_match(g: dict, s: dict) -> bool:
    return (
        g["category"] == s["category"]
        and overlaps(g["donors"], s["donors"])
        and (not g["recipients"] or overlaps(g["recipients"], s["recipients"]))
    )


def greedy(gold: list[dict], system: list[dict], match) -> list[tuple[int, int]]:
    used: set[int] = set()
    pairs = []
    for gi, g in enumerate(gold):
        for si, s in enumerate(system):
            if si not in used and match(g, s):
                used.add(si)
                pairs.append((gi, si))
                break
    return pairs


def _slug_tokens(actor_id: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", actor_id.split(":", 1)[-1].lower()) if t]


def _close(a: str, b: str) -> bool:
    if a == b or (len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a))):
        return True
    if abs(len(a) - len(b)) > 2 or min(len(a), len(b)) < 4:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= 2


def same_entity(g: str, s: str) -> bool:
    """Persons by name tokens in any order or near-equal surnames; organisations by contained name words."""
    kind = g.split(":", 1)[0]
    if kind != s.split(":", 1)[0] or kind not in ("PER", "ORG"):
        return False
    gt, st = _slug_tokens(g), _slug_tokens(s)
    if not gt or not st:
        return False
    if sorted(gt) == sorted(st) or set(gt) <= set(st) or set(st) <= set(gt):
        return True
    if kind == "PER":
        return any(_close(a, b) for a in {gt[-1], gt[0]} for b in {st[-1], st[0]} if len(a) > 2 and len(b) > 2) and (
            _close(gt[-1], st[-1]) or _close(gt[0], st[-1]) or _close(gt[-1], st[0])
        )
    return False


def actor_true_positives(gold: set[str], system: set[str]) -> int:
    tp = len(gold & system)
    left = [s for s in system - gold if s.startswith(("PER:", "ORG:"))]
    used: set[str] = set()
    for g in gold - system:
        for s in left:
            if s not in used and same_entity(g, s):
                used.add(s)
                tp += 1
                break
    return tp


def prf(tp: int, n_system: int, n_gold: int) -> dict:
    p = tp / n_system if n_system else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "tp": tp,
        "system": n_system,
        "gold": n_gold,
    }


@dataclass
class Report:
    scores: dict
    by_type: dict[str, dict]
    misses: list[dict] = field(default_factory=list)


def _read(warehouse: Path, table: str) -> list[dict]:
    rows: list[dict] = []
    for f in sorted((warehouse / "parquet" / table).rglob("*.parquet")):
        rows.extend(pq.read_table(f).to_pylist())
    return rows


def system_output(warehouse: Path) -> dict[str, dict]:
    actors = {a["actor_id"]: a for a in _read(warehouse, "actors")}

    def affil(actor_id: str) -> str:
        a = actors.get(actor_id)
        if a and a["actor_type"] in ("person", "organization"):
            return a.get("affiliation_id") or a.get("country_code") or actor_id
        return actor_id

    by_article = {a["article_id"]: a["source_id"] for a in _read(warehouse, "articles")}
    out: dict[str, dict] = defaultdict(lambda: {"actors": set(), "affils": set(), "events": [], "commitments": []})
    for m in _read(warehouse, "actor_mentions"):
        rec = out[by_article[m["article_id"]]]
        rec["actors"].add(m["actor_id"])
        rec["affils"].add(affil(m["actor_id"]))
    for e in _read(warehouse, "events"):
        out[by_article[e["article_id"]]]["events"].append(
            {
                "type": norm_type(e["event_type"]),
                "sources": {affil(x) for x in e["source_actor_ids"]},
                "targets": {affil(x) for x in e["target_actor_ids"]},
                "evidence": e["evidence"],
            }
        )
    for c in _read(warehouse, "commitments"):
        out[by_article[c["article_id"]]]["commitments"].append(
            {
                "category": c["category"],
                "donors": {affil(x) for x in c["donor_actor_ids"]},
                "recipients": {affil(x) for x in c["recipient_actor_ids"]},
                "status": c["status"],
                "amount": c["amount"],
                "currency": c["currency"],
                "evidence": c["evidence"],
            }
        )
    return out


def score(gold_path: Path, warehouse: Path) -> Report:
    gold_records = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    system = system_output(warehouse)
    tot: dict[str, int] = defaultdict(int)
    by_type: dict[str, dict] = defaultdict(lambda: {"tp": 0, "gold": 0, "system": 0})
    misses: list[dict] = []
    status_ok = amount_ok = amount_n = 0
    scopes = set()
    for rec in gold_records:
        g = rec["gold"]
        scope = g.get("scope", "full")
        scopes.add(scope)
        s = system.get(str(rec["id"]), {"actors": set(), "affils": set(), "events": [], "commitments": []})
        gold_events = [
            {
                "type": norm_type(e["type"]),
                "sources": {norm_code(x) for x in e.get("sources", [])},
                "targets": {norm_code(x) for x in e.get("targets", [])},
                "evidence": e.get("evidence", ""),
            }
            for e in g.get("events", [])
        ]
        gold_commitments = [
            {
                "category": c["category"],
                "donors": {norm_code(x) for x in c.get("donors", [])},
                "recipients": {norm_code(x) for x in c.get("recipients", [])},
                "status": c.get("status"),
                "amount": c.get("amount"),
                "currency": c.get("currency"),
                "evidence": c.get("evidence", ""),
            }
            for c in g.get("commitments", [])
        ]
        ev_pairs = greedy(gold_events, s["events"], event_match)
        cm_pairs = greedy(gold_commitments, s["commitments"], commitment_match)
        tot["ev_tp"] += len(ev_pairs)
        tot["ev_gold"] += len(gold_events)
        tot["ev_sys"] += len(s["events"])
        tot["cm_tp"] += len(cm_pairs)
        tot["cm_gold"] += len(gold_commitments)
        tot["cm_sys"] += len(s["commitments"])
        for e in gold_events:
            by_type[e["type"]]["gold"] += 1
        for e in s["events"]:
            by_type[e["type"]]["system"] += 1
        for gi, _ in ev_pairs:
            by_type[gold_events[gi]["type"]]["tp"] += 1
        matched_gold = {gi for gi, _ in ev_pairs}
        matched_sys = {si for _, si in ev_pairs}
        misses += [
            {"record": rec["id"], "kind": "missed event", **_show(e)}
            for i, e in enumerate(gold_events)
            if i not in matched_gold
        ]
        if scope == "full":
            misses += [
                {"record": rec["id"], "kind": "spurious event", **_show(e)}
                for i, e in enumerate(s["events"])
                if i not in matched_sys
            ]
        matched_gold_c = {gi for gi, _ in cm_pairs}
        misses += [
            {"record": rec["id"], "kind": "missed commitment", **_show(c)}
            for i, c in enumerate(gold_commitments)
            if i not in matched_gold_c
        ]
        for gi, si in cm_pairs:
            gc, sc = gold_commitments[gi], s["commitments"][si]
            status_ok += gc["status"] is None or gc["status"] == sc["status"]
            if gc.get("amount"):
                amount_n += 1
                amount_ok += bool(
                    sc["amount"]
                    and abs(sc["amount"] - float(gc["amount"])) <= 0.01 * float(gc["amount"])
                    and (not gc.get("currency") or gc["currency"] == sc["currency"])
                )
        gold_actors = {a["id"] if isinstance(a, dict) else a for a in g.get("actors", [])}
        if scope == "full":
            tot["ac_tp"] += actor_true_positives(gold_actors, s["actors"])
            tot["ac_gold"] += len(gold_actors)
            tot["ac_sys"] += len(s["actors"])
    scores: dict = {"records": len(gold_records), "scopes": sorted(scopes)}
    if scopes == {"full"}:
        scores["actors"] = prf(tot["ac_tp"], tot["ac_sys"], tot["ac_gold"])
        scores["events"] = prf(tot["ev_tp"], tot["ev_sys"], tot["ev_gold"])
        scores["commitments"] = prf(tot["cm_tp"], tot["cm_sys"], tot["cm_gold"])
    else:
        if tot["ev_gold"]:
            scores["events"] = {
                "recall": round(tot["ev_tp"] / tot["ev_gold"], 4),
                "tp": tot["ev_tp"],
                "gold": tot["ev_gold"],
            }
        if tot["cm_gold"]:
            scores["commitments"] = {
                "recall": round(tot["cm_tp"] / tot["cm_gold"], 4),
                "tp": tot["cm_tp"],
                "gold": tot["cm_gold"],
            }
    if tot["cm_tp"]:
        scores.setdefault("commitments", {})["status_accuracy"] = round(status_ok / tot["cm_tp"], 4)
    if amount_n:
        scores.setdefault("commitments", {})["amount_accuracy"] = round(amount_ok / amount_n, 4)
    return Report(scores, {k: by_type[k] for k in sorted(by_type)}, misses)


def _show(item: dict) -> dict:
    return {k: (sorted(v) if isinstance(v, set) else v) for k, v in item.items()}
