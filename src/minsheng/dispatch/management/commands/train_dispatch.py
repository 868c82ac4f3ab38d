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
from minsheng.dispatch.services import dispatch_model_register
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
            self.stdout.write("held-out (20% of corpus): category {category_acc:.3f}  subcategory "
                              "{subcategory_acc:.3f}  top-3 {subcategory_top3:.3f}  urgency F1 {urgency_f1:.3f}  (n={n})".format(**accuracy))
        dispatch_model_register(
            version=classifier.version, path=str(current), corpus_items=len(corpus), confirmed_items=len(extra), heldout=accuracy or {},
        )
        self.stdout.write(f"saved {current}; now the model in use")

    def _held_out_accuracy(self, corpus, extra, taxonomy, seed) -> dict | None:
        """Accuracy on a stratified 20% of the corpus, held out from a first fit: overall
        figures, urgency F1 and a confusion matrix over categories (the quality page)."""
        labels = [it["subcategory"] for it in corpus]
        counts = {label: labels.count(label) for label in set(labels)}
        if len(corpus) < 20 or min(counts.values()) < 2:
            return None
        train, test = train_test_split(corpus, test_size=0.2, stratify=labels, random_state=seed)
        model = DispatchClassifier.train(train + extra, taxonomy)
        preds = model.predict_many([it["text"] for it in test])
        n = len(test)
        truth_cat = [taxonomy.category_of(it["subcategory"]) for it in test]
        pred_cat = [p.top_category for p in preds]
        urgent_true = [it.get("urgency", "normal") == "urgent" for it in test]
        urgent_pred = [p.urgency == "urgent" for p in preds]
        tp = sum(t and q for t, q in zip(urgent_true, urgent_pred))
        precision = tp / sum(urgent_pred) if sum(urgent_pred) else 0.0
        recall = tp / sum(urgent_true) if sum(urgent_true) else 0.0
        cat_labels = sorted(set(truth_cat) | set(pred_cat))
        index = {code: i for i, code in enumerate(cat_labels)}
        matrix = [[0] * len(cat_labels) for _ in cat_labels]
        for t, q in zip(truth_cat, pred_cat):
            matrix[index[t]][index[q]] += 1
        return {
            "n": n,
            "category_acc": sum(t == q for t, q in zip(truth_cat, pred_cat)) / n,
            "subcategory_acc": sum(p.top_subcategory == it["subcategory"] for p, it in zip(preds, test)) / n,
            "subcategory_top3": sum(it["subcategory"] in [c for c, _ in p.subcategory[:3]] for p, it in zip(preds, test)) / n,
            "urgency_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "confusion": {"labels": cat_labels, "matrix": matrix},
        }
