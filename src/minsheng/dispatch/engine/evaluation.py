"""Measuring the dispatch engine on labelled appeals, and the naive baseline it must beat.

Items are processed in file order as if they were arriving cases: each one is classified, located,
routed and checked for duplicates against the *earlier* items only, then added to the duplicate
index. Labels are used for scoring only.

Metrics (keys of the returned dict)
- n: number of items.
- category_acc / subcategory_acc: top-1 accuracy; category_top3: gold category among the top 3.
- unit_acc: suggested unit equals the labelled unit, over all items (None equals None: a
  territorial appeal without a location must come back as "location needed").
- street_acc / community_acc: over items whose label is not null.
- street_false_rate: share of items labelled street null for which a street was asserted.
- urgency_f1: F1 of the "urgent" class (1.0 when there is no urgent item and none was predicted).
- dup_precision / dup_recall: over ordered pairs (earlier, later). A *gold pair* is two items of
  the same non-null dup_group. A *predicted pair* is (d, i) for each earlier item d that the engine
  listed among item i's duplicates. precision = |predicted ∩ gold| / |predicted| and
  recall = |predicted ∩ gold| / |gold|; with no predicted pairs precision is 1.0 (nothing wrongly
  flagged), with no gold pairs recall is 1.0.
- ms_per_item: mean wall time of one suggestion (classification + location + routing +
  duplicate lookup + indexing), in milliseconds.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from .classifier import URGENT, Prediction, clean_text
from .duplicates import DuplicateIndex
from .gazetteer import Gazetteer
from .pipeline import DispatchEngine
from .taxonomy import Taxonomy

METRIC_KEYS = (
    "n", "category_acc", "category_top3", "subcategory_acc", "unit_acc", "street_acc",
    "community_acc", "street_false_rate", "urgency_f1", "dup_precision", "dup_recall", "ms_per_item",
)


def load_jsonl(path: str | Path) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a half-written line of a corpus file still being written
    return items


def load_corpus(directory: str | Path) -> list[dict]:
    """All training appeals in corpus/*.jsonl; the file name is the category code."""
    items = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for item in load_jsonl(path):
            if not item.get("text") or not item.get("subcategory"):
                continue
            item.setdefault("category", path.stem)
            items.append(item)
    return items


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def evaluate(items: Iterable[dict], engine: DispatchEngine,
             progress: Callable[[Iterable], Iterable] | None = None) -> dict:
    """Run the engine over labelled items in order; see the module docstring for the metrics."""
    items = list(items)
    rows = []
    elapsed = 0.0
    for index, item in enumerate(progress(items) if progress else items):
        key = item.get("id", index)
        started = time.perf_counter()
        s = engine.suggest(item["text"], address=item.get("address") or "",
                           at=_parse_time(item.get("at")), case_key=key, add_to_index=True)
        elapsed += time.perf_counter() - started
        rows.append({
            "key": key,
            "category": s.category,
            "subcategory": s.subcategory[0][0],
            "unit": s.unit,
            "street": s.location.street,
            "community": s.location.community,
            "urgency": s.urgency,
            "duplicates": [k for k, _ in s.duplicates],
        })
    metrics = score(items, rows)
    metrics["ms_per_item"] = round(1000 * elapsed / len(items), 3) if items else 0.0
    return metrics


def score(items: list[dict], rows: list[dict]) -> dict:
    """The metrics from gold items and the engine's outputs (same order)."""
    n = len(items)
    ratio = lambda hits, total: round(hits / total, 4) if total else 1.0  # noqa: E731
    cat = sum(r["category"][0][0] == it["category"] for it, r in zip(items, rows))
    top3 = sum(it["category"] in [c for c, _ in r["category"][:3]] for it, r in zip(items, rows))
    sub = sum(r["subcategory"] == it["subcategory"] for it, r in zip(items, rows))
    unit = sum(r["unit"] == it.get("unit") for it, r in zip(items, rows))
    with_street = [(it, r) for it, r in zip(items, rows) if it.get("street") is not None]
    with_comm = [(it, r) for it, r in zip(items, rows) if it.get("community") is not None]
    without_street = [(it, r) for it, r in zip(items, rows) if it.get("street") is None]
    return {
        "n": n,
        "category_acc": ratio(cat, n),
        "category_top3": ratio(top3, n),
        "subcategory_acc": ratio(sub, n),
        "unit_acc": ratio(unit, n),
        "street_acc": ratio(sum(r["street"] == it["street"] for it, r in with_street), len(with_street)),
        "community_acc": ratio(sum(r["community"] == it["community"] for it, r in with_comm), len(with_comm)),
        "street_false_rate": round(sum(r["street"] is not None for _, r in without_street)
                                   / len(without_street), 4) if without_street else 0.0,
        "urgency_f1": urgency_f1([it.get("urgency") for it in items], [r["urgency"] for r in rows]),
        **duplicate_scores(items, rows),
    }


def urgency_f1(gold: list[str | None], predicted: list[str]) -> float:
    tp = sum(g == URGENT and p == URGENT for g, p in zip(gold, predicted))
    fp = sum(g != URGENT and p == URGENT for g, p in zip(gold, predicted))
    fn = sum(g == URGENT and p != URGENT for g, p in zip(gold, predicted))
    if tp + fp + fn == 0:
        return 1.0
    return round(2 * tp / (2 * tp + fp + fn), 4)


def duplicate_scores(items: list[dict], rows: list[dict]) -> dict:
    """Pairwise duplicate precision/recall (see module docstring)."""
    keys = [r["key"] for r in rows]
    position = {k: i for i, k in enumerate(keys)}
    gold: set[tuple] = set()
    for i, it in enumerate(items):
        group = it.get("dup_group")
        if not group:
            continue
        for j in range(i):
            if items[j].get("dup_group") == group:
                gold.add((keys[j], keys[i]))
    predicted = {(d, r["key"]) for r in rows for d in r["duplicates"]
                 if d in position and position[d] < position[r["key"]]}
    hits = len(predicted & gold)
    return {
        "dup_precision": round(hits / len(predicted), 4) if predicted else 1.0,
        "dup_recall": round(hits / len(gold), 4) if gold else 1.0,
    }


# ------------------------------------------------------------------------------------------------
# The naive baseline: plain TF-IDF + logistic regression, plain MinHash duplicates.

class BaselineClassifier:
    """TF-IDF over character uni/bigrams with default settings and a logistic regression per
    task, nothing else: no word features, no lexicon, no tuning."""

    version = "baseline"

    def __init__(self, items: list[dict], taxonomy: Taxonomy):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = [clean_text(it["text"]) for it in items]
        self.taxonomy = taxonomy
        self._vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
        X = self._vec.fit_transform(texts)
        self._model = LogisticRegression(max_iter=1000).fit(X, [it["subcategory"] for it in items])
        urgent = [it.get("urgency") == URGENT for it in items]
        self._urgency = LogisticRegression(max_iter=1000).fit(X, urgent) if 0 < sum(urgent) < len(urgent) else None

    def predict(self, text: str, explain: bool = True) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: list[str], explain: bool = False) -> list[Prediction]:  # no key terms to explain
        X = self._vec.transform([clean_text(t) for t in texts])
        probs = self._model.predict_proba(X)
        urgent = self._urgency.predict(X) if self._urgency is not None else [False] * len(texts)
        classes = list(self._model.classes_)
        out = []
        for row, is_urgent in zip(probs, urgent):
            order = row.argsort()[::-1][:3]
            subs = [(classes[j], float(row[j])) for j in order]
            cats = []
            for code, p in subs:
                cat = self.taxonomy.category_of(code)
                if cat not in [c for c, _ in cats]:
                    cats.append((cat, p))
            out.append(Prediction(category=cats, subcategory=subs,
                                  urgency=URGENT if is_urgent else "normal",
                                  urgency_probability=1.0 if is_urgent else 0.0))
        return out


def baseline_engine(taxonomy: Taxonomy, gazetteer: Gazetteer, corpus_items: list[dict]) -> DispatchEngine:
    """The naive engine the real one is compared with: same gazetteer, plain classifier, the
    top subcategory's unit, and duplicates by MinHash Jaccard alone."""
    classifier = BaselineClassifier(corpus_items, taxonomy)
    return DispatchEngine(taxonomy, gazetteer, classifier, DuplicateIndex(),
                          informed_duplicates=False, unit_by_marginal=False)


def format_table(metrics: dict, baseline: dict | None = None) -> str:
    """A readable two- or three-column table of metrics."""
    lines = [f"{'metric':<20}{'engine':>10}" + (f"{'baseline':>10}" if baseline else "")]
    for key in METRIC_KEYS:
        value = metrics.get(key)
        row = f"{key:<20}{_fmt(value):>10}"
        if baseline:
            row += f"{_fmt(baseline.get(key)):>10}"
        lines.append(row)
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
