"""The whole suggestion for one appeal: class, urgency, place, unit, reasons, duplicates."""

from datetime import datetime

import pytest

from minsheng.dispatch.engine import DispatchClassifier, DispatchEngine, DuplicateIndex
from minsheng.dispatch.engine.evaluation import baseline_engine
from minsheng.dispatch.engine.pipeline import in_heating_season

from .conftest import TINY_CORPUS


@pytest.fixture()
def engine(taxonomy, gazetteer):
    classifier = DispatchClassifier.train(TINY_CORPUS, taxonomy)
    return DispatchEngine(taxonomy, gazetteer, classifier, DuplicateIndex())


def test_territorial_appeal_goes_to_street_of_place(engine):
    s = engine.suggest("计划路菜市场门口的垃圾好几天没人清运了", case_key="c1")
    assert s.subcategory[0][0] == "CGM.HJWS"
    assert s.location.community == "JSL03"
    assert s.unit == "street:JSL"
    assert 0 < s.unit_confidence <= s.location.confidence
    assert any("计划路菜市场" in r for r in s.reasons)
    assert any(r.startswith("关键词") for r in s.reasons)
    assert not s.needs_location


def test_territorial_without_place_needs_location(engine):
    s = engine.suggest("垃圾堆了好几天没人清运，臭得很")
    assert s.unit is None and s.needs_location
    assert any("需先确定地点" in r for r in s.reasons)


def test_department_appeal_ignores_place(engine):
    s = engine.suggest("锦绣城小区5号楼电梯困人了，快来救援")
    assert s.unit == "dept:SJJ"
    assert s.urgency == "urgent"
    assert s.location.street == "MFL"


def test_duplicates_are_found_and_indexed(engine):
    first = engine.suggest("计划路菜市场门口的垃圾好几天没人清运了，臭气熏天", case_key="c1")
    assert first.duplicates == []
    second = engine.suggest("计划路菜市场垃圾站清运不及时，垃圾桶满了没人倒", case_key="c2")
    assert [k for k, _ in second.duplicates] == ["c1"]
    # without a key (or with add_to_index=False) the appeal is not indexed
    engine.suggest("计划路菜市场垃圾没人清运", add_to_index=False, case_key="c3")
    assert "c3" not in engine.dup_index


def test_batch_matches_single(engine):
    rows = [{"text": "锦绣城小区电梯困人"}, {"text": "碧沙岗公园门口摊贩占道"}]
    batch = engine.suggest_many(rows)
    assert [s.unit for s in batch] == ["dept:SJJ", "street:LSZ"]


def test_heating_season_makes_no_heat_urgent(engine):
    winter = engine.suggest("家里停暖两天了，屋里冰冷", at=datetime(2025, 1, 10))
    assert winter.urgency == "urgent"
    assert in_heating_season(datetime(2024, 11, 20)) and not in_heating_season(datetime(2025, 6, 1))


def test_baseline_engine_runs(taxonomy, gazetteer):
    base = baseline_engine(taxonomy, gazetteer, TINY_CORPUS)
    s = base.suggest("电梯困人了", case_key="b1")
    assert s.subcategory[0][0] == "ZF.DT" and s.unit == "dept:SJJ"
