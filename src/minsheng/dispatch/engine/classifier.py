"""What an appeal is about (诉求分类) and how urgent it is.

A linear model over two views of the text: character n-grams (robust to the typos, dialect and
missing word boundaries of resident writing) and rjieba words (whole terms such as 物业费,
欠薪, 红绿灯). Subcategory probabilities come from a multinomial logistic regression; category
probabilities are the sums of their subcategories' probabilities, so the two never disagree.
Urgency has its own model on the same features plus a small lexicon of danger words
(困人, 燃气泄漏, 着火 ...), which keeps rare but critical phrasings from being missed.
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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .taxonomy import Taxonomy

URGENT, NORMAL = "urgent", "normal"

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
    "no_heat": ("停暖", "暖气不热", "暖气停", "没有暖气", "暖气冰凉", "暖气是凉的", "屋里冷"),
    "no_water": ("停水", "没水", "断水"),
    "no_power": ("停电", "断电", "没电"),
    "crowd": ("聚集", "围堵", "情绪激动", "群体", "堵门", "拉横幅", "上访"),
    "harm": ("跳楼", "轻生", "自杀", "打架", "持刀", "伤人", "中毒"),
    "vulnerable": ("老人", "孩子", "小孩", "孕妇", "卧床", "独居", "残疾"),
    "now": ("马上", "立即", "赶紧", "紧急", "快来", "尽快", "现在", "刚才", "正在"),
}


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


def danger_features(texts: Sequence[str]) -> sparse.csr_matrix:
    """One 0/1 column per danger-lexicon group."""
    groups = list(DANGER_LEXICON.values())
    rows = [[1.0 if any(p in t for p in phrases) else 0.0 for phrases in groups] for t in texts]
    return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(texts), len(groups)))


def danger_hits(text: str) -> list[str]:
    """The danger phrases a text contains (for reasons shown to the dispatcher)."""
    return [p for group, phrases in DANGER_LEXICON.items()
            if group not in ("vulnerable", "now") for p in phrases if p in text]


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

    #: urgency decision threshold on the urgent-class probability
    urgency_threshold = 0.5

    def __init__(self, char_ngrams: tuple[int, int] = (1, 3), words: bool = True, C: float = 20.0,
                 urgency_C: float = 4.0, lexicon: bool = True, max_features: int | None = 300_000):
        self.char_ngrams = char_ngrams
        self.words = words
        self.C = C
        self.urgency_C = urgency_C
        self.lexicon = lexicon
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
        labels = [it["subcategory"] for it in items]
        self._char = TfidfVectorizer(analyzer="char", ngram_range=self.char_ngrams, sublinear_tf=True,
                                     min_df=2, max_features=self.max_features, dtype=np.float32)
        blocks = [self._char.fit_transform(texts)]
        if self.words:
            self._word = TfidfVectorizer(tokenizer=jieba_words, token_pattern=None, lowercase=False,
                                         ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                         max_features=self.max_features, dtype=np.float32)
            blocks.append(self._word.fit_transform(texts))
        X = sparse.hstack(blocks, format="csr")
        self._model = LogisticRegression(C=self.C, max_iter=2000)
        self._model.fit(X, labels)
        self.subcategories = list(self._model.classes_)
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

    def _fit_urgency(self, X, texts: list[str], items: list[dict]) -> None:
        y = np.array([1 if it.get("urgency") == URGENT else 0 for it in items])
        self._urgency = None
        if 0 < y.sum() < len(y):
            self._urgency = LogisticRegression(C=self.urgency_C, max_iter=2000, class_weight="balanced")
            self._urgency.fit(self._urgency_features(X, texts), y)
        self._urgent_prior = float(y.mean()) if len(y) else 0.0

    def _urgency_features(self, X, texts: Sequence[str]):
        if not self.lexicon:
            return X
        return sparse.hstack([X, danger_features(texts)], format="csr")

    # ---------------------------------------------------------------- prediction
    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows for cleaned texts: both views side by side, each L2-normalised, exactly
        as the fitted vectorizers would give them but without sklearn's per-call checks (which
        cost more than the arithmetic for a single appeal)."""
        if self._fast is None:
            self._fast = [_FastTfidf(v) for v in (self._char, self._word) if v is not None]
        blocks = [block.transform(texts) for block in self._fast]
        return sparse.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def _subcategory_probabilities(self, X) -> np.ndarray:
        """Softmax of the multinomial logistic regression (same as predict_proba)."""
        scores = np.asarray(X @ self._model.coef_.T) + self._model.intercept_
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

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Vectorised prediction for a batch (no key terms: ask key_terms() for one)."""
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        return self._predict_rows(self._features(cleaned), cleaned)

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
        U = self._urgency_features(X, cleaned)
        z = np.asarray(U @ self._urgency.coef_[0]).ravel() + self._urgency.intercept_[0]
        return 1.0 / (1.0 + np.exp(-z))

    def key_terms(self, text: str, subcategory: str, k: int = 5) -> list[str]:
        """The words/character n-grams of this text that pushed most towards the subcategory."""
        return self._key_terms_of_row(self._features([clean_text(text)]), subcategory, k)

    def _key_terms_of_row(self, x, subcategory: str, k: int = 5) -> list[str]:
        if subcategory not in self.subcategories:
            return []
        coef = self._model.coef_[self.subcategories.index(subcategory)]
        contrib = x.data * coef[x.indices]
        terms: list[str] = []
        for j in np.argsort(-contrib):
            if contrib[j] <= 0 or len(terms) >= k:
                break
            term = self._feature_names[x.indices[j]].split(":", 1)[1].replace(" ", "")
            if len(term) < 2 or term.strip("0") == "" or any(term in t for t in terms):
                continue
            # a longer term replaces the shorter ones it contains
            terms = [t for t in terms if t not in term] + [term]
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
        return obj


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
