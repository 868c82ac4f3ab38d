"""Benchmark of intelligent dispatch: throughput in batch and latency of one appeal end to end.

One appeal end to end = classification + location + routing + duplicate lookup against an index
of N open cases. The naive baseline in the same run is the plain TF-IDF + LogisticRegression
classifier with a brute-force duplicate search (exact shingle Jaccard against every open case),
which is what one writes first; the ratio shows what the index buys. Past --naive-cap open
cases the brute-force scan is timed on that many and scaled linearly (it is a linear scan).

Run (from the repository root):

    .venv/bin/python bench/bench_dispatch.py                      # 100,000 open cases
    .venv/bin/python bench/bench_dispatch.py --open-cases 1000000 # a million: ~4 GB RAM for
                                                                  # the index, minutes to fill it

Prints one JSON object. The model is trained on src/minsheng/data/corpus (or loaded from the
cache in $MINSHENG_DATA_DIR/models, default ./var/models).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from minsheng.dispatch.engine import DispatchEngine, DuplicateIndex  # noqa: E402
from minsheng.dispatch.engine.duplicates import clean_for_shingles  # noqa: E402
from minsheng.dispatch.engine.evaluation import BaselineClassifier, load_corpus  # noqa: E402
from minsheng.dispatch.engine.modelstore import corpus_dir, load_or_train, load_reference_data  # noqa: E402

NOW = datetime(2025, 6, 30, 12, 0)


def rss_mb() -> float:
    """Current resident memory of this process in MB (from /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def synthetic_open_cases(n: int, texts: list[str], gazetteer, rng: random.Random):
    """Open cases spread over the district's communities and the last 30 days; texts are corpus
    appeals with a random tail so that they are not all identical."""
    communities = list(gazetteer.communities.values())
    for i in range(n):
        comm = rng.choice(communities)
        located = rng.random() < 0.8
        yield {
            "key": i,
            "text": rng.choice(texts) + f"（{rng.randrange(1, 40)}号楼{rng.randrange(1, 9)}单元）",
            "community": comm["code"] if located else None,
            "street": comm["street"] if located or rng.random() < 0.5 else None,
            "at": NOW - timedelta(minutes=rng.randrange(0, 30 * 24 * 60)),
            "topic": None,
            "place": None,
        }


class NaiveDuplicates:
    """Exact 2-character-shingle Jaccard against every open case (what the index replaces)."""

    def __init__(self):
        self.cases: list[tuple[int, frozenset]] = []

    def add(self, key, text):
        clean = clean_for_shingles(text)
        self.cases.append((key, frozenset(clean[i:i + 2] for i in range(len(clean) - 1))))

    def query(self, text, limit=5, threshold=0.5):
        clean = clean_for_shingles(text)
        ours = frozenset(clean[i:i + 2] for i in range(len(clean) - 1))
        scored = []
        for key, theirs in self.cases:
            union = len(ours | theirs)
            if union and len(ours & theirs) / union >= threshold:
                scored.append((key, len(ours & theirs) / union))
        return sorted(scored, key=lambda kv: -kv[1])[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open-cases", type=int, default=100_000, help="open cases in the duplicate index")
    parser.add_argument("--batch", type=int, default=2000, help="appeals in the batch throughput run")
    parser.add_argument("--single", type=int, default=300, help="appeals timed one at a time")
    parser.add_argument("--naive-single", type=int, default=30, help="appeals timed for the naive baseline")
    parser.add_argument("--naive-cap", type=int, default=100_000,
                        help="open cases the brute-force baseline really scans; its time is scaled "
                             "linearly to --open-cases beyond that (a full scan is linear in N)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    taxonomy, gazetteer = load_reference_data()
    corpus = load_corpus(corpus_dir())
    if not corpus:
        sys.exit(f"no corpus in {corpus_dir()}: nothing to train the classifier on")
    model_dir = Path(os.environ.get("MINSHENG_DATA_DIR", ROOT / "var")) / "models"
    classifier = load_or_train(corpus, taxonomy, model_dir, log=lambda m: print(m, file=sys.stderr))
    texts = [it["text"] for it in corpus]

    # ------------------------------------------------------------ the open-case index
    gc.collect()
    before = rss_mb()
    index = DuplicateIndex()
    started = time.perf_counter()
    index.add_many(synthetic_open_cases(args.open_cases, texts, gazetteer, rng))
    build_s = time.perf_counter() - started
    index_mb = rss_mb() - before
    engine = DispatchEngine(taxonomy, gazetteer, classifier, index)

    appeals = [rng.choice(texts) for _ in range(max(args.batch, args.single))]

    # ------------------------------------------------------------ batch throughput
    started = time.perf_counter()
    classifier.predict_many(appeals[: args.batch])
    classify_rate = args.batch / (time.perf_counter() - started)
    rows = [{"text": t, "at": NOW, "add_to_index": False} for t in appeals[: args.batch]]
    started = time.perf_counter()
    engine.suggest_many(rows)
    batch_rate = args.batch / (time.perf_counter() - started)

    # ------------------------------------------------------------ one appeal at a time
    latencies = []
    for text in appeals[: args.single]:
        started = time.perf_counter()
        engine.suggest(text, at=NOW, add_to_index=False)
        latencies.append((time.perf_counter() - started) * 1000)

    # ------------------------------------------------------------ naive baseline
    naive_clf = BaselineClassifier(corpus, taxonomy)
    naive_dups = NaiveDuplicates()
    scanned = min(args.open_cases, args.naive_cap)
    for case in synthetic_open_cases(scanned, texts, gazetteer, random.Random(args.seed)):
        naive_dups.add(case["key"], case["text"])
    scale = args.open_cases / scanned
    naive_latencies = []
    for text in appeals[: args.naive_single]:
        started = time.perf_counter()
        pred = naive_clf.predict(text)
        loc = gazetteer.locate(text)
        taxonomy.route(pred.subcategory[0][0], loc.street)
        rest = time.perf_counter() - started
        started = time.perf_counter()
        naive_dups.query(text)
        naive_latencies.append((rest + (time.perf_counter() - started) * scale) * 1000)

    p95 = percentile(latencies, 0.95)
    naive_p95 = percentile(naive_latencies, 0.95)
    result = {
        "open_cases": args.open_cases,
        "index_build_s": round(build_s, 1),
        "index_memory_mb": round(index_mb, 1),
        "classifier_items_per_s": round(classify_rate),
        "batch_items_per_s": round(batch_rate),
        "single_p50_ms": round(statistics.median(latencies), 2),
        "single_p95_ms": round(p95, 2),
        "naive_single_p50_ms": round(statistics.median(naive_latencies), 2),
        "naive_single_p95_ms": round(naive_p95, 2),
        "naive_items_per_s": round(1000 / statistics.mean(naive_latencies), 1),
        "naive_cases_scanned": scanned,
        "speedup_p95": round(naive_p95 / p95, 1) if p95 else None,
        "speedup_throughput": round(batch_rate / (1000 / statistics.mean(naive_latencies)), 1),
        "model_version": classifier.version,
        "corpus_size": len(corpus),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
