"""Where trained dispatch models live and how an engine is assembled from the shipped data.

Models are cached under a directory (the Django side passes MINSHENG_DATA_DIR/models) with the
training data's fingerprint in the file name, so the same corpus is never trained twice and a
changed corpus never reuses a stale model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from .classifier import MODEL_FORMAT, DispatchClassifier, corpus_hash
from .duplicates import DuplicateIndex
from .evaluation import load_corpus
from .gazetteer import Gazetteer
from .pipeline import DispatchEngine
from .taxonomy import Taxonomy

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
CURRENT_MODEL = "dispatch-current.pkl"


def taxonomy_path(data_dir: Path = DATA_DIR) -> Path:
    return Path(data_dir) / "taxonomy.yaml"


def gazetteer_path(data_dir: Path = DATA_DIR) -> Path:
    return Path(data_dir) / "gazetteer.yaml"


def corpus_dir(data_dir: Path = DATA_DIR) -> Path:
    return Path(data_dir) / "corpus"


def load_reference_data(data_dir: Path = DATA_DIR) -> tuple[Taxonomy, Gazetteer]:
    return Taxonomy.from_yaml(taxonomy_path(data_dir)), Gazetteer.from_yaml(gazetteer_path(data_dir))


def cached_model_path(model_dir: Path, items: Iterable[dict]) -> Path:
    return Path(model_dir) / f"dispatch-f{MODEL_FORMAT}-{corpus_hash(items)[:12]}.pkl"


def load_or_train(items: list[dict], taxonomy: Taxonomy, model_dir: Path | None,
                  log: Callable[[str], None] = lambda _msg: None) -> DispatchClassifier:
    """The classifier for exactly these training items: from the cache, or trained and cached."""
    path = cached_model_path(model_dir, items) if model_dir else None
    if path and path.exists():
        try:
            clf = DispatchClassifier.load(path)
            log(f"loaded cached model {path.name} ({clf.version})")
            return clf
        except Exception as exc:  # a model pickled by another library version: retrain
            log(f"cached model {path.name} unusable ({exc}); retraining")
    log(f"training on {len(items)} appeals ...")
    clf = DispatchClassifier.train(items, taxonomy)
    if path:
        clf.save(path)
        log(f"saved {path}")
    return clf


def load_current(model_dir: Path | None) -> DispatchClassifier | None:
    """The model saved by train-dispatch, if there is one this code can read."""
    current = Path(model_dir) / CURRENT_MODEL if model_dir else None
    if current is None or not current.exists():
        return None
    try:
        return DispatchClassifier.load(current)
    except Exception:  # saved by an older layout or library: fall back to the corpus model
        return None


def build_engine(model_dir: Path | None = None, data_dir: Path = DATA_DIR,
                 classifier: DispatchClassifier | None = None) -> DispatchEngine:
    """An engine from the shipped taxonomy/gazetteer and the current model (trained on the corpus
    if none is saved), with an empty duplicate index for the caller to fill with open cases."""
    taxonomy, gazetteer = load_reference_data(data_dir)
    if classifier is None:
        classifier = load_current(model_dir)
    if classifier is None:
        classifier = load_or_train(load_corpus(corpus_dir(data_dir)), taxonomy, model_dir)
    return DispatchEngine(taxonomy, gazetteer, classifier, DuplicateIndex())
