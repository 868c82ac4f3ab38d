"""What an appeal is about (诉求分类) and how urgent it is.

A linear model over two views of the text: character 1-3-grams (robust to the typos, dialect and
missing word boundaries of resident writing) and rjieba words and word pairs (whole terms such as
物业费, 欠薪, 红绿灯). Subcategories come from a linear SVM; its scores become probabilities
through a softmax whose temperature is fitted on held-out folds of the training data, so that
"80%" means right about four times in five. Category probabilities are the sums of their
subcategories' probabilities, so the two never disagree.

Urgency has its own (logistic) model on the same features plus one feature per group of a small
lexicon of danger words (困人, 燃气泄漏, 着火 ...), Platt-scaled on held-out folds, with the
decision threshold that gave the best F1 there.

Choices measured by 3-fold cross-validation on the training corpus (subcategory accuracy):
char 1-3 + words 0.771 (SVM, C=0.5), vs char 2-4 0.708 and logistic regression 0.767; the
temperature brings the expected calibration error from 0.23 to 0.08.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import rjieba
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from .taxonomy import Taxonomy

URGENT, NORMAL = "urgent", "normal"
CALIBRATION_FOLDS = 3
#: Bumped whenever the saved model's layout changes; older pickles are retrained, not used.
MODEL_FORMAT = 3
DEFAULT_C = {"svm": 0.5, "lr": 50.0}

_PHONE = re.compile(r"1\d{10}|\d{3,4}-\d{7,8}")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}

#: Phrases that mean danger to people or loss of a basic necessity. Each group becomes one
#: feature, so the urgency model can weigh them against context (a past 困人 mentioned in a
#: complaint about an overdue inspection is not an emergency).
DANGER_LEXICON: dict[str, tuple[str, ...]] = {
    "life": ("生命危险", "危及生命", "人命", "救命", "昏迷", "晕倒", "不省人事", "抢救", "120"),
    "trapped": ("困人", "被困", "困在", "关在里面", "卡在", "出不来"),
    "gas": ("燃气泄漏", "漏气", "煤气味", "燃气味", "天然气味", "气味很大", "闻到煤气", "闻到燃气"),
    "fire": ("着火", "起火", "失火", "冒烟", "火灾", "烧起来", "火苗", "爆炸"),
    "electric": ("触电", "漏电", "电线掉", "电线垂", "电线断", "打火花", "冒火花"),
    "collapse": ("坍塌", "塌陷", "倒塌", "塌了", "砸伤", "砸到", "掉下来", "脱落", "随时会掉"),
    "water_danger": ("爆管", "喷水", "淹了", "水漫", "倒灌", "溺水"),
    "no_heat": ("停暖", "暖气停", "没有暖气", "暖气冰凉", "暖气是凉的"),
    "crowd": ("聚集", "围堵", "情绪激动", "堵门", "拉横幅"),
    "harm": ("跳楼", "轻生", "自杀", "持刀", "伤人", "中毒"),
}


#: Words that carry weight in the model but tell a dispatcher nothing as a "key term".
_FILLER_WORDS = frozenset("里面 外面 这个 那个 一个 有个 我们 他们 我家 你们 现在 已经 还是 就是 什么 快来 "
                          "一直 好几 几天 天天 每天 这么 那么 非常 特别 真的 希望".split())


def clean_text(text: str) -> str:
    """Normalise what varies without meaning: width, spaces, phone numbers, digit values."""
    text = (text or "").translate(_FULLWIDTH).lower()
    text = _PHONE.sub(" ", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def jieba_words(text: str) -> list[str]:
    """rjieba tokens without punctuation/space tokens (module-level so models pickle)."""
    return [w for w in rjieba.cut(text) if w.strip() and not _is_punct(w)]


def _is_punct(token: str) -> bool:
    return all(not ch.isalnum() for ch in token)


def danger_features(texts: Sequence[str], groups: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    """One 0/1 column per danger-lexicon group."""
    groups = list(DANGER_LEXICON.values()) if groups is None else groups
    rows = [[1.0 if any(p in t for p in phrases) else 0.0 for phrases in groups] for t in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(groups))


def danger_hits(text: str) -> list[str]:
    """The danger phrases a text contains (for reasons shown to the dispatcher)."""
    return [p for phrases in DANGER_LEXICON.values() for p in phrases if p in text]


@dataclass
class Prediction:
    category: list[tuple[str, float]]
    subcategory: list[tuple[str, float]]
    urgency: str
    urgency_probability: float
    key_terms: list[str] = field(default_factory=list)
    #: every subcategory with probability >= 0.005, best first (for deciding the unit)
    distribution: list[tuple[str, float]] = field(default_factory=list)

    @property
    def top_category(self) -> str:
        return self.category[0][0]

    @property
    def top_subcategory(self) -> str:
        return self.subcategory[0][0]


class DispatchClassifier:
    """Subcategory, category and urgency of an appeal text."""

    #: urgency decision threshold on the calibrated urgent-class probability (refit in training)
    urgency_threshold = 0.5

    def __init__(self, kind: str = "svm", char_ngrams: tuple[int, int] = (1, 3), words: bool = True,
                 C: float | None = None, urgency_C: float = 4.0, lexicon: bool = True,
                 max_features: int | None = 300_000):
        self.format = MODEL_FORMAT
        self.kind = kind
        self.C = C if C is not None else DEFAULT_C[kind]
        self.temperature = 1.0
        self.urgency_platt = (1.0, 0.0)
        self.char_ngrams = char_ngrams
        self.words = words
        self.urgency_C = urgency_C
        self.lexicon = lexicon
        #: the lexicon the urgency model was trained with (the model keeps its own copy)
        self.lexicon_groups: list[tuple[str, ...]] = list(DANGER_LEXICON.values()) if lexicon else []
        self.max_features = max_features
        self.version = ""
        self.trained_on = 0
        self.subcategories: list[str] = []
        self.categories: list[str] = []
        self._sub_to_cat: np.ndarray | None = None  # (n_sub, n_cat) 0/1
        self._char: TfidfVectorizer | None = None
        self._word: TfidfVectorizer | None = None
        self._model: LogisticRegression | None = None
        self._urgency: LogisticRegression | None = None
        self._feature_names: np.ndarray | None = None
        self._fast: list[_FastTfidf] | None = None

    # ---------------------------------------------------------------- training
    @classmethod
    def train(cls, items: Iterable[dict], taxonomy: Taxonomy, **options) -> "DispatchClassifier":
        """Train from labelled appeals: dicts with text, subcategory and (optional) urgency."""
        items = [it for it in items if it.get("text") and it.get("subcategory") in taxonomy.subcategories]
        if not items:
            raise ValueError("no labelled appeals with a known subcategory to train on")
        clf = cls(**options)
        clf._fit(items, taxonomy)
        return clf

    def _fit(self, items: list[dict], taxonomy: Taxonomy) -> None:
        texts = [clean_text(it["text"]) for it in items]
        labels = np.asarray([it["subcategory"] for it in items])
        self._char = TfidfVectorizer(analyzer="char", ngram_range=self.char_ngrams, sublinear_tf=True,
                                     min_df=2, max_features=self.max_features, dtype=np.float32)
        blocks = [self._char.fit_transform(texts)]
        if self.words:
            self._word = TfidfVectorizer(tokenizer=jieba_words, token_pattern=None, lowercase=False,
                                         ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                         max_features=self.max_features, dtype=np.float32)
            blocks.append(self._word.fit_transform(texts))
        X = sparse.hstack(blocks, format="csr")
        self._model = self._new_model().fit(X, labels)
        self.subcategories = [str(c) for c in self._model.classes_]
        self.temperature = self._fit_temperature(X, labels)
        self.categories = sorted({taxonomy.category_of(s) for s in self.subcategories})
        cat_index = {c: i for i, c in enumerate(self.categories)}
        self._sub_to_cat = np.zeros((len(self.subcategories), len(self.categories)), dtype=np.float64)
        for i, sub in enumerate(self.subcategories):
            self._sub_to_cat[i, cat_index[taxonomy.category_of(sub)]] = 1.0
        names = [f"c:{n}" for n in self._char.get_feature_names_out()]
        if self._word is not None:
            names += [f"w:{n}" for n in self._word.get_feature_names_out()]
        self._feature_names = np.asarray(names, dtype=object)
        self._fit_urgency(X, texts, items)
        self.trained_on = len(items)
        self.version = _version(items)

    def _new_model(self):
        if self.kind == "svm":
            return LinearSVC(C=self.C)
        return LogisticRegression(C=self.C, max_iter=3000)

    def _folds(self, y: np.ndarray) -> list | None:
        """Cross-validation folds for calibration, or None when a class is too small for them."""
        _, counts = np.unique(y, return_counts=True)
        if len(counts) < 2 or counts.min() < CALIBRATION_FOLDS:
            return None
        return list(StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0).split(np.zeros(len(y)), y))

    def _fit_temperature(self, X, y: np.ndarray) -> float:
        """Softmax temperature that makes out-of-fold probabilities honest (minimum log-loss).

        Linear models' raw scores are not probabilities: SVM margins and strongly regularised
        logistic regressions are both far too flat over 57 classes. One scalar fitted on
        held-out folds fixes the scale without changing the ranking."""
        folds = self._folds(y)
        if folds is None:
            return 1.0
        scores = np.zeros((len(y), len(self.subcategories)))
        for train, test in folds:
            model = self._new_model().fit(X[train], y[train])
            cols = np.searchsorted(self.subcategories, model.classes_)
            scores[np.ix_(test, cols)] = model.decision_function(X[test])
        truth = np.searchsorted(self.subcategories, y)

        def log_loss(log_t: float) -> float:
            z = scores / np.exp(log_t)
            z -= z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -float(log_p[np.arange(len(y)), truth].mean())

        return float(np.exp(minimize_scalar(log_loss, bounds=(-5.0, 3.0), method="bounded").x))

    def _fit_urgency(self, X, texts: list[str], items: list[dict]) -> None:
        """Urgency model, then Platt scaling and the F1-best threshold from held-out folds."""
        y = np.array([1 if it.get("urgency") == URGENT else 0 for it in items])
        self._urgency = None
        self._urgent_prior = float(y.mean()) if len(y) else 0.0
        self.urgency_platt = (1.0, 0.0)
        self.urgency_threshold = 0.5
        if not 0 < y.sum() < len(y):
            return
        U = self._urgency_features(X, texts)
        self._urgency = self._new_urgency_model().fit(U, y)
        folds = self._folds(y)
        if folds is None:
            return
        scores = np.zeros(len(y))
        for train, test in folds:
            scores[test] = self._new_urgency_model().fit(U[train], y[train]).decision_function(U[test])
        platt = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), y)
        self.urgency_platt = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        probs = _sigmoid(self.urgency_platt[0] * scores + self.urgency_platt[1])
        self.urgency_threshold = _best_f1_threshold(probs, y)

    def _new_urgency_model(self):
        return LogisticRegression(C=self.urgency_C, max_iter=3000, class_weight="balanced")

    def _urgency_features(self, X, texts: Sequence[str]):
        if not self.lexicon:
            return X
        return sparse.hstack([X, sparse.csr_matrix(danger_features(texts, self.lexicon_groups))],
                             format="csr")

    # ---------------------------------------------------------------- prediction
    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows for cleaned texts: both views side by side, each L2-normalised, exactly
        as the fitted vectorizers would give them but without sklearn's per-call checks (which
        cost more than the arithmetic for a single appeal)."""
        if self._fast is None:
            self._fast = [_FastTfidf(v) for v in (self._char, self._word) if v is not None]
        blocks = [block.transform(texts) for block in self._fast]
        if len(blocks) == 1:
            return blocks[0]
        # side by side without sparse.hstack's format checks (they dominate for one appeal)
        offsets = np.cumsum([0] + [b.shape[1] for b in blocks[:-1]])
        indptr = sum(b.indptr for b in blocks)
        rows = [np.concatenate([b.indices[b.indptr[i]:b.indptr[i + 1]] + off
                                for b, off in zip(blocks, offsets)]) for i in range(len(texts))]
        data = [np.concatenate([b.data[b.indptr[i]:b.indptr[i + 1]] for b in blocks])
                for i in range(len(texts))]
        return sparse.csr_matrix((np.concatenate(data), np.concatenate(rows), indptr),
                                 shape=(len(texts), int(offsets[-1] + blocks[-1].shape[1])))

    def _subcategory_probabilities(self, X) -> np.ndarray:
        """Calibrated probabilities: softmax of the linear scores over the fitted temperature."""
        scores = (np.asarray(X @ self._model.coef_.T) + self._model.intercept_) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_fast"] = None  # analyzers are rebuilt after loading
        return state

    def predict(self, text: str, explain: bool = True) -> Prediction:
        cleaned = [clean_text(text)]
        X = self._features(cleaned)
        pred = self._predict_rows(X, cleaned)[0]
        if explain:
            pred.key_terms = self._key_terms_of_row(X, pred.top_subcategory)
        return pred

    def predict_many(self, texts: Sequence[str], explain: bool = False) -> list[Prediction]:
        """Vectorised prediction for a batch; with `explain`, each with its key terms, as
        `predict` gives them (a bulk import goes without: ask key_terms() for one)."""
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        X = self._features(cleaned)
        predictions = self._predict_rows(X, cleaned)
        if explain:
            X = X.tocsr()
            for i, pred in enumerate(predictions):
                pred.key_terms = self._key_terms_of_row(X[i], pred.top_subcategory)
        return predictions

    def _predict_rows(self, X, cleaned: Sequence[str]) -> list[Prediction]:
        sub_p = self._subcategory_probabilities(X)
        cat_p = sub_p @ self._sub_to_cat
        urgent_p = self._urgency_probability(X, cleaned)
        sub_top = np.argsort(-sub_p, axis=1)[:, :3]
        cat_top = np.argsort(-cat_p, axis=1)[:, :3]
        out = []
        for i in range(len(cleaned)):
            out.append(Prediction(
                category=[(self.categories[j], round(float(cat_p[i, j]), 4)) for j in cat_top[i]],
                subcategory=[(self.subcategories[j], round(float(sub_p[i, j]), 4)) for j in sub_top[i]],
                urgency=URGENT if urgent_p[i] >= self.urgency_threshold else NORMAL,
                urgency_probability=round(float(urgent_p[i]), 4),
                distribution=self._distribution(sub_p[i]),
            ))
        return out

    def _distribution(self, probs: np.ndarray) -> list[tuple[str, float]]:
        keep = np.flatnonzero(probs >= 0.005)
        keep = keep[np.argsort(-probs[keep])]
        return [(self.subcategories[j], float(probs[j])) for j in keep]

    def _urgency_probability(self, X, cleaned: Sequence[str]) -> np.ndarray:
        if self._urgency is None:
            return np.full(len(cleaned), self._urgent_prior)
        # same as the model on [X | lexicon], without building the stacked matrix
        coef = self._urgency.coef_[0]
        z = np.asarray(X @ coef[: X.shape[1]]).ravel() + self._urgency.intercept_[0]
        if self.lexicon:
            z += danger_features(cleaned, self.lexicon_groups) @ coef[X.shape[1]:]
        a, b = self.urgency_platt
        return _sigmoid(a * z + b)

    def key_terms(self, text: str, subcategory: str, k: int = 5) -> list[str]:
        """The words/character n-grams of this text that pushed most towards the subcategory."""
        return self._key_terms_of_row(self._features([clean_text(text)]), subcategory, k)

    def _key_terms_of_row(self, x, subcategory: str, k: int = 5) -> list[str]:
        """Whole words (rjieba tokens) with the largest positive contribution;
        character n-grams decide too, but fragments like "号楼电" explain nothing to a person."""
        if subcategory not in self.subcategories:
            return []
        coef = self._model.coef_[self.subcategories.index(subcategory)]
        contrib = x.data * coef[x.indices]
        terms: list[str] = []
        for j in np.argsort(-contrib):
            if contrib[j] <= 0 or len(terms) >= k:
                break
            kind, _, term = self._feature_names[x.indices[j]].partition(":")
            if kind != "w" or " " in term or len(term) < 2 or "0" in term \
                    or term in _FILLER_WORDS or term in terms:
                continue
            terms.append(term)
        return terms

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "DispatchClassifier":
        with open(path, "rb") as fh:
            obj = pickle.load(fh)
        if not isinstance(obj, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        if getattr(obj, "format", 0) != MODEL_FORMAT:
            raise ValueError(f"{path} was saved in model format {getattr(obj, 'format', 0)}, "
                             f"this code reads format {MODEL_FORMAT}: retrain")
        return obj


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _best_f1_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The probability cut-off with the best F1 for the positive class on held-out scores."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.2, 0.81, 0.02):
        pred = probs >= t
        tp = int((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + (y == 1).sum()) if tp else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return round(best_t, 2)


class _FastTfidf:
    """A fitted TfidfVectorizer's transform for one document at a time."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.astype(np.float64)
        self.sublinear = vectorizer.sublinear_tf
        self.size = len(self.vocabulary)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Sublinear TF x IDF, L2-normalised per row."""
        vocabulary, analyze = self.vocabulary, self.analyze
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            row: dict[int, int] = {}
            for token in analyze(text):
                j = vocabulary.get(token)
                if j is not None:
                    row[j] = row.get(j, 0) + 1
            indices.extend(row.keys())
            counts.extend(row.values())
            indptr.append(len(indices))
        idx = np.asarray(indices, dtype=np.int32)
        tf = np.asarray(counts, dtype=np.float64)
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        val = tf * self.idf[idx] if idx.size else tf
        bounds = np.asarray(indptr)
        lengths = np.diff(bounds)
        norms = np.sqrt(np.add.reduceat(val * val, bounds[:-1][lengths > 0])) if idx.size else np.zeros(0)
        val /= np.repeat(norms, lengths[lengths > 0])
        return sparse.csr_matrix((val, idx, bounds), shape=(len(texts), self.size))


def corpus_hash(items: Iterable[dict]) -> str:
    """Stable fingerprint of a training set (texts and labels)."""
    h = hashlib.sha1()
    for it in items:
        h.update(f"{it.get('text', '')}\t{it.get('subcategory', '')}\t{it.get('urgency', '')}\n".encode())
    return h.hexdigest()


def _version(items: list[dict]) -> str:
    return time.strftime("%Y%m%d%H%M%S") + "-" + corpus_hash(items)[:10]
