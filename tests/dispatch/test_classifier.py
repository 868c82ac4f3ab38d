"""The classifier on a tiny hand-made corpus (see conftest.TINY_CORPUS)."""

import time

import numpy as np
import pytest

from minsheng.dispatch.engine import DispatchClassifier
from minsheng.dispatch.engine.classifier import MODEL_FORMAT, clean_text, danger_hits

from .conftest import TINY_CORPUS


@pytest.fixture(scope="module")
def classifier(taxonomy):
    return DispatchClassifier.train(TINY_CORPUS, taxonomy)


def test_predicts_obvious_subcategories(classifier):
    assert classifier.predict("垃圾好几天没人清运了").top_subcategory == "CGM.HJWS"
    assert classifier.predict("摊贩占道经营摆摊").top_subcategory == "CGM.ZDJY"
    assert classifier.predict("燃气费多收了").top_subcategory == "GY.RQ"
    assert classifier.predict("电梯年检过期").top_subcategory == "ZF.DT"


def test_probabilities_are_top3_and_consistent(classifier):
    pred = classifier.predict("小区垃圾没人清运")
    assert len(pred.subcategory) == 3
    assert len(pred.category) == min(3, len(classifier.categories))
    probs = [p for _, p in pred.subcategory]
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(p for _, p in pred.distribution) == pytest.approx(1.0, abs=0.05)
    # the category is the sum of its subcategories: CGM = HJWS + ZDJY
    cat = dict(pred.category)
    dist = dict(pred.distribution)
    assert cat["CGM"] == pytest.approx(dist.get("CGM.HJWS", 0) + dist.get("CGM.ZDJY", 0), abs=0.02)
    assert pred.top_category == "CGM"


def test_urgency(classifier):
    assert classifier.predict("电梯困人了，有人被困在里面，快来").urgency == "urgent"
    assert classifier.predict("楼道里燃气味很大，可能漏气了").urgency == "urgent"
    assert classifier.predict("燃气费多收了好几百").urgency == "normal"
    assert 0.0 <= classifier.predict("电梯有异响").urgency_probability <= 1.0


def test_key_terms_come_from_the_text(classifier):
    pred = classifier.predict("小区门口的垃圾没人清运")
    assert pred.key_terms
    assert all(term in clean_text("小区门口的垃圾没人清运") for term in pred.key_terms)


def test_predict_many_matches_predict(classifier):
    texts = ["垃圾没人清运", "电梯困人", "摊贩占道"]
    batch = classifier.predict_many(texts)
    assert [p.top_subcategory for p in batch] == [classifier.predict(t).top_subcategory for t in texts]
    assert classifier.predict_many([]) == []


def test_save_and_load(classifier, tmp_path):
    path = classifier.save(tmp_path / "model.pkl")
    loaded = DispatchClassifier.load(path)
    assert loaded.version == classifier.version
    assert loaded.predict("电梯困人").subcategory == classifier.predict("电梯困人").subcategory


def test_version_depends_on_training_data(classifier, taxonomy):
    other = DispatchClassifier.train(TINY_CORPUS[:-1], taxonomy)
    assert classifier.version.split("-")[1] != other.version.split("-")[1]
    assert classifier.trained_on == len(TINY_CORPUS)


def test_rejects_empty_training_set(taxonomy):
    with pytest.raises(ValueError):
        DispatchClassifier.train([{"text": "x", "subcategory": "NOPE"}], taxonomy)


def test_batch_is_fast(classifier):
    texts = [item["text"] for item in TINY_CORPUS] * 40
    started = time.perf_counter()
    classifier.predict_many(texts)
    assert len(texts) / (time.perf_counter() - started) > 500  # loose bound; bench measures properly


def test_danger_lexicon():
    assert "困人" in danger_hits("电梯困人了")
    assert danger_hits("物业费太贵") == []
    assert clean_text("电话１３８００１３８０００ 三号楼") == "电话 三号楼"


def test_fast_path_matches_sklearn(classifier):
    texts = ["小区门口的垃圾没人清运", "电梯困人了！", "", "燃气费 多收了 123 元"]
    cleaned = [clean_text(t) for t in texts]
    ours = classifier._features(cleaned).toarray()
    from scipy import sparse
    reference = sparse.hstack([classifier._char.transform(cleaned),
                               classifier._word.transform(cleaned)]).toarray()
    assert abs(ours - reference).max() < 1e-5
    probs = classifier._subcategory_probabilities(classifier._features(cleaned))
    z = classifier._model.decision_function(reference) / classifier.temperature
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert abs(probs - expected).max() < 1e-6
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_calibration_is_fitted_on_held_out_folds(taxonomy):
    # three examples per class are enough for 3-fold calibration
    clf = DispatchClassifier.train(TINY_CORPUS, taxonomy)
    assert clf.temperature > 0 and clf.temperature != 1.0
    assert 0.2 <= clf.urgency_threshold <= 0.8


@pytest.mark.parametrize("kind", ["svm", "lr"])
def test_both_linear_models(taxonomy, kind):
    clf = DispatchClassifier.train(TINY_CORPUS, taxonomy, kind=kind)
    assert clf.predict("电梯困人了").top_subcategory == "ZF.DT"


def test_outdated_model_file_is_refused(classifier, tmp_path):
    classifier.format = 1
    try:
        path = classifier.save(tmp_path / "old.pkl")
    finally:
        classifier.format = MODEL_FORMAT
    with pytest.raises(ValueError):
        DispatchClassifier.load(path)
