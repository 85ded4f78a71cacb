"""Peak RSS of the warehouse load alone: loads a published partition again into a copy of the warehouse, in
this fresh process, and prints the peak next to the process's RSS before the load.

    uv run python tests/bench/load_memory.py WAREHOUSE [--date 2026-01-07]

The warehouse is one a run has published (`geowire run`, or the bench with a kept directory); it is copied first,
so its own database is not touched.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.01


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--date", default="2026-01-07")
    args = ap.parse_args()

    from pipeline.warehouse import load_partition

    me = psutil.Process()
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], me.memory_info().rss)

    with tempfile.TemporaryDirectory(prefix="geowire-load-") as tmp:
        copy = Path(tmp) / "wh"
        shutil.copytree(args.warehouse / "parquet", copy / "parquet")
        before = peak[0] = me.memory_info().rss
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        rows = load_partition(copy, args.date)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    print(f"rows {rows}")
    print(f"load {seconds:.1f} s, RSS before {before / 2**20:.0f} MB, peak {peak[0] / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
