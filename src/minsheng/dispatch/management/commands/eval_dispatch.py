"""minsheng eval-dispatch FILE.jsonl [--json] [--baseline]

Measures the dispatch engine on labelled appeals (see engine/evaluation.py for the metrics).
The model is trained on the shipped corpus, or loaded from MINSHENG_DATA_DIR/models when a
model for exactly this corpus was trained before. With --json the last line printed is one JSON
object with the metrics (and, with --baseline, the naive baseline's under "baseline").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from minsheng.dispatch.engine import DispatchEngine, DuplicateIndex
from minsheng.dispatch.engine.evaluation import (baseline_engine, evaluate, format_table,
                                                 load_corpus, load_jsonl)
from minsheng.dispatch.engine.modelstore import corpus_dir, load_or_train, load_reference_data


class Command(BaseCommand):
    help = "Evaluate intelligent dispatch (分类、定位、分拨、查重) on a labelled JSONL file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="labelled appeals, one JSON object per line")
        parser.add_argument("--json", action="store_true", help="print the metrics as JSON last")
        parser.add_argument("--baseline", action="store_true",
                            help="also evaluate the plain TF-IDF + LogisticRegression baseline")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.exists():
            raise CommandError(f"no such file: {path}")
        items = load_jsonl(path)
        if not items:
            raise CommandError(f"{path} holds no appeals")
        taxonomy, gazetteer = load_reference_data()
        corpus = load_corpus(corpus_dir())
        if not corpus:
            raise CommandError(f"no training corpus in {corpus_dir()}")
        log = lambda msg: self.stderr.write(msg)  # noqa: E731  (keeps stdout for the table/JSON)
        classifier = load_or_train(corpus, taxonomy, Path(settings.MINSHENG_DATA_DIR) / "models", log)
        engine = DispatchEngine(taxonomy, gazetteer, classifier, DuplicateIndex())
        bar = lambda seq, desc="engine": tqdm(seq, desc=desc, file=sys.stderr, leave=False)  # noqa: E731
        metrics = evaluate(items, engine, progress=bar)
        baseline = None
        if opts["baseline"]:
            log("training the baseline ...")
            base = baseline_engine(taxonomy, gazetteer, corpus)
            baseline = evaluate(items, base, progress=lambda seq: bar(seq, "baseline"))
        self.stdout.write(f"model {classifier.version} trained on {classifier.trained_on} appeals; "
                          f"{len(items)} appeals from {path.name}")
        self.stdout.write(format_table(metrics, baseline))
        if opts["json"]:
            result = dict(metrics)
            if baseline is not None:
                result["baseline"] = baseline
            self.stdout.write(json.dumps(result, ensure_ascii=False))
