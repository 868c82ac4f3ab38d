"""evaluate() on a hand-made file whose expected metrics were worked out by hand.

data/tiny_eval.jsonl holds six labelled appeals; a scripted engine answers each with a fixed
suggestion, so every metric can be checked against arithmetic done on paper:

item  gold cat/sub/unit/street/comm/urg/dup      engine says
a1    CGM HJWS street:LSZ LSZ LSZ01 normal g1     CGM HJWS street:LSZ LSZ LSZ01 normal  dups []
a2    GY  RQ   dept:GAS  -   -     urgent -      GY  RQ   dept:GAS  MFL -     urgent  dups []
a3    CGM HJWS street:LSZ LSZ LSZ01 normal g1     ZF(top3 has CGM) WYFW street:LSZ LSZ LSZ02 normal dups [a1]
a4    ZF  DT   dept:SJJ  JSL -     urgent g2      ZF  DT   dept:SJJ  JSL -     normal  dups [a2]
a5    ZF  DT   dept:SJJ  JSL JSL06 urgent g2      ZF  DT   dept:SJJ  JSL JSL06 urgent  dups [a4, a3]
a6    CGM ZDJY None      -   -     normal g1      JY(top3 lacks CGM) RX dept:JYJ - - urgent dups []

category 4/6, top3 5/6, subcategory 4/6, unit 5/6 (a6: None expected), street 4/4,
community 2/3 (a3 wrong), street_false_rate 1/2 (a2 asserted MFL), urgency TP=2 FP=1 FN=1 -> F1 4/6,
gold dup pairs (a1,a3) (a1,a6) (a3,a6) (a4,a5); predicted (a1,a3)+ (a2,a4)- (a4,a5)+ (a3,a5)-
-> precision 2/4, recall 2/4.
"""

from pathlib import Path

import pytest

from minsheng.dispatch.engine.evaluation import (METRIC_KEYS, duplicate_scores, evaluate,
                                                 format_table, load_corpus, load_jsonl, urgency_f1)
from minsheng.dispatch.engine.gazetteer import Location
from minsheng.dispatch.engine.pipeline import Suggestion

DATA = Path(__file__).resolve().parent / "data"

SCRIPT = {
    "T1": (["CGM", "ZF", "GY"], "CGM.HJWS", "street:LSZ", "LSZ", "LSZ01", "normal", []),
    "T2": (["GY", "ZF", "CGM"], "GY.RQ", "dept:GAS", "MFL", None, "urgent", []),
    "T3": (["ZF", "CGM", "GY"], "ZF.WYFW", "street:LSZ", "LSZ", "LSZ02", "normal", ["a1"]),
    "T4": (["ZF", "GY", "CGM"], "ZF.DT", "dept:SJJ", "JSL", None, "normal", ["a2"]),
    "T5": (["ZF", "GY", "CGM"], "ZF.DT", "dept:SJJ", "JSL", "JSL06", "urgent", ["a4", "a3"]),
    "T6": (["JY", "JX", "QY"], "JY.RX", "dept:JYJ", None, None, "urgent", []),
}


class ScriptedEngine:
    """Answers each text with the suggestion written in SCRIPT and records the call order."""

    def __init__(self):
        self.calls = []

    def suggest(self, text, address="", at=None, case_key=None, add_to_index=True):
        self.calls.append((case_key, add_to_index))
        cats, sub, unit, street, comm, urgency, dups = SCRIPT[text]
        return Suggestion(
            category=[(c, 0.5) for c in cats], subcategory=[(sub, 0.5)], urgency=urgency,
            urgency_probability=0.5, location=Location(street=street, community=comm),
            unit=unit, unit_confidence=0.5, needs_location=False,
            duplicates=[(d, 0.9) for d in dups])


def test_metrics_match_hand_computation():
    items = load_jsonl(DATA / "tiny_eval.jsonl")
    engine = ScriptedEngine()
    metrics = evaluate(items, engine)
    assert set(metrics) == set(METRIC_KEYS)
    expected = {
        "n": 6, "category_acc": 0.6667, "category_top3": 0.8333, "subcategory_acc": 0.6667,
        "unit_acc": 0.8333, "street_acc": 1.0, "community_acc": 0.6667, "street_false_rate": 0.5,
        "urgency_f1": 0.6667, "dup_precision": 0.5, "dup_recall": 0.5,
    }
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-4), key
    assert metrics["ms_per_item"] >= 0
    # items arrive in file order and each is added to the index after its own lookup
    assert engine.calls == [(f"a{i}", True) for i in range(1, 7)]


def test_blank_lines_are_skipped():
    assert len(load_jsonl(DATA / "tiny_eval.jsonl")) == 6


def test_urgency_f1_edge_cases():
    assert urgency_f1(["normal", "normal"], ["normal", "normal"]) == 1.0
    assert urgency_f1(["urgent"], ["normal"]) == 0.0


def test_duplicate_pairs_only_count_earlier_items():
    items = [{"dup_group": "g"}, {"dup_group": "g"}]
    rows = [{"key": "x", "duplicates": ["y"]}, {"key": "y", "duplicates": []}]  # a later "duplicate"
    assert duplicate_scores(items, rows) == {"dup_precision": 1.0, "dup_recall": 0.0}


def test_load_corpus_reads_every_file(tmp_path):
    (tmp_path / "CGM.jsonl").write_text(
        '{"text": "垃圾没人拉", "subcategory": "CGM.HJWS", "urgency": "normal"}\n{"text": "半行', encoding="utf-8")
    (tmp_path / "GY.jsonl").write_text('{"text": "停水", "subcategory": "GY.GS"}\n', encoding="utf-8")
    items = load_corpus(tmp_path)
    assert [(i["category"], i["subcategory"]) for i in items] == [("CGM", "CGM.HJWS"), ("GY", "GY.GS")]


def test_format_table_lists_every_metric():
    metrics = {k: 0.5 for k in METRIC_KEYS}
    table = format_table(metrics, metrics)
    assert all(k in table for k in METRIC_KEYS) and "baseline" in table
