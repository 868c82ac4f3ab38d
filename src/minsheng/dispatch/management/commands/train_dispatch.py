"""minsheng train-dispatch

Trains the dispatch model on the shipped corpus plus dispatcher-confirmed cases
(minsheng.dispatch.training.extra_items), reports accuracy on a stratified 20% of the corpus held
out from a first fit, then fits on everything and saves the model as the current one under
MINSHENG_DATA_DIR/models/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from minsheng.dispatch.engine import DispatchClassifier
from minsheng.dispatch.engine.evaluation import load_corpus
from minsheng.dispatch.engine.modelstore import (CURRENT_MODEL, cached_model_path, corpus_dir,
                                                 load_reference_data)
from minsheng.dispatch.training import extra_items


class Command(BaseCommand):
    help = "Train the intelligent-dispatch model and save it for the application."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")

    def handle(self, *args, **opts):
        taxonomy, _ = load_reference_data()
        corpus = load_corpus(corpus_dir())
        extra = list(extra_items())
        if not corpus and not extra:
            raise CommandError(f"nothing to train on: {corpus_dir()} is empty and no confirmed cases")
        with tqdm(total=3, desc="train-dispatch", file=sys.stderr) as bar:
            accuracy = self._held_out_accuracy(corpus, extra, taxonomy, opts["seed"])
            bar.update(1)
            classifier = DispatchClassifier.train(corpus + extra, taxonomy)
            bar.update(1)
            model_dir = Path(settings.MINSHENG_DATA_DIR) / "models"
            current = classifier.save(model_dir / CURRENT_MODEL)
            if not extra:  # same training set as eval-dispatch uses: share the cache
                classifier.save(cached_model_path(model_dir, corpus))
            bar.update(1)
        self.stdout.write(f"version {classifier.version}")
        self.stdout.write(f"trained on {classifier.trained_on} appeals "
                          f"({len(corpus)} corpus + {len(extra)} confirmed cases)")
        if accuracy:
            self.stdout.write("held-out (20% of corpus): category {category:.3f}  subcategory "
                              "{subcategory:.3f}  urgency {urgency:.3f}  (n={n})".format(**accuracy))
        self.stdout.write(f"saved {current}")

    def _held_out_accuracy(self, corpus, extra, taxonomy, seed) -> dict | None:
        labels = [it["subcategory"] for it in corpus]
        counts = {label: labels.count(label) for label in set(labels)}
        if len(corpus) < 20 or min(counts.values()) < 2:
            return None
        train, test = train_test_split(corpus, test_size=0.2, stratify=labels, random_state=seed)
        model = DispatchClassifier.train(train + extra, taxonomy)
        preds = model.predict_many([it["text"] for it in test])
        n = len(test)
        return {
            "n": n,
            "category": sum(p.top_category == taxonomy.category_of(it["subcategory"])
                            for p, it in zip(preds, test)) / n,
            "subcategory": sum(p.top_subcategory == it["subcategory"] for p, it in zip(preds, test)) / n,
            "urgency": sum(p.urgency == it.get("urgency", "normal") for p, it in zip(preds, test)) / n,
        }
