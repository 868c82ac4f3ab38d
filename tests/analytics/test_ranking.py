"""The monthly ranking per class of unit and its red and black lists (红黑榜)."""

import datetime as dt

import pytest
from django.test import override_settings

from minsheng.analytics import selectors

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)


def dispatch_to(story, key: str, responded: bool) -> None:
    case = story.new("2026-11-30 08:00")
    steps = [("2026-11-30 09:00", "dispatch", {"unit": key}), ("2026-11-30 10:00", "acknowledge")]
    if responded:
        steps.append(("2026-11-30 11:00", "contact"))
    story.run(case, steps)


@pytest.fixture
def month(story):
    """Nov 2026: CGJ 2/2 responded, ZJJ 2/2, SJJ 1/2, FGJ 1/1 (too few to rank)."""
    for key, outcomes in {"dept:CGJ": [1, 1], "dept:ZJJ": [1, 1], "dept:SJJ": [1, 0], "dept:FGJ": [1]}.items():
        for responded in outcomes:
            dispatch_to(story, key, bool(responded))


def test_units_are_ranked_by_score_with_shared_ranks_for_equal_scores(month):
    ranking = selectors.monthly_ranking(month=dt.date(2026, 11, 17), kind="dept", min_volume=2, list_size=1)
    ranked = [(r.unit.code, r.rank, round(r.rates.score, 2)) for r in ranking.rows if r.rank]
    assert ranked == [("CGJ", 1, 100.0), ("ZJJ", 1, 100.0), ("SJJ", 3, 50.0)]
    assert ranking.month == NOV and ranking.kind == "dept"


def test_units_below_the_minimum_volume_are_listed_unranked(month):
    ranking = selectors.monthly_ranking(month=NOV, kind="dept", min_volume=2)
    fgj = next(r for r in ranking.rows if r.unit.code == "FGJ")
    assert fgj.rank is None and "不足" in fgj.note and fgj.rates.response_rate == 1.0
    assert len(ranking.rows) == 26  # every department, ranked ones first
    assert [r.rank for r in ranking.rows[:3]] == [1, 1, 3] and all(r.rank is None for r in ranking.rows[3:])


def test_red_and_black_lists_name_the_best_and_the_worst_without_overlap(month):
    one = selectors.monthly_ranking(month=NOV, kind="dept", min_volume=2, list_size=1)
    assert [r.unit.code for r in one.red] == ["CGJ"] and [r.unit.code for r in one.black] == ["SJJ"]
    two = selectors.monthly_ranking(month=NOV, kind="dept", min_volume=2, list_size=2)
    assert [r.unit.code for r in two.red] == ["CGJ", "ZJJ"] and [r.unit.code for r in two.black] == ["SJJ"]
    five = selectors.monthly_ranking(month=NOV, kind="dept", min_volume=2, list_size=5)
    assert len(five.red) == 3 and five.black == []


@override_settings(MINSHENG_RANKING_MIN_VOLUME=1, MINSHENG_RANKING_LIST_SIZE=2)
def test_minimum_volume_and_list_size_come_from_settings(month):
    ranking = selectors.monthly_ranking(month=NOV, kind="dept")
    assert ranking.min_volume == 1 and ranking.list_size == 2
    assert sum(1 for r in ranking.rows if r.rank) == 4


def test_streets_are_ranked_with_their_communities_rolled_up(story):
    for _ in range(2):
        case = story.new("2026-11-30 08:00")
        story.run(case, [("2026-11-30 09:00", "dispatch", {"unit": "street:JSL"}),
                         ("2026-11-30 09:30", "delegate", {"community": "community:JSL03"}),
                         ("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact"), ("2026-12-01 10:00", "reply"),
                         ("2026-12-01 11:00", "approve"), ("2026-12-02 09:00", "feedback", {"rating": "unsatisfied"})])
    rankings = selectors.monthly_rankings(month=NOV, min_volume=2)
    (jsl,) = [r for r in rankings["street"].rows if r.rank]
    assert jsl.unit.code == "JSL" and jsl.rates.received == 2
    # Response 100 % (30), no feedback in November (resolution, satisfaction re-weighted out).
    assert jsl.rates.score == pytest.approx(100.0)
    # The community received the two cases but has nothing scored in November: its response
    # is the street's (the dispatch went there) and its replies and feedback came in December.
    jsl03 = next(r for r in rankings["community"].rows if r.unit.code == "JSL03")
    assert jsl03.rates.received == 2 and jsl03.rank is None and jsl03.note == "无可评分数据"
    december = selectors.monthly_ranking(month=dt.date(2026, 12, 1), kind="community", min_volume=0)
    jsl03 = next(r for r in december.rows if r.unit.code == "JSL03")
    assert jsl03.rank == 1 and jsl03.rates.satisfaction_rate == 0.0 and jsl03.rates.score == pytest.approx(0.0)
    assert [r.rank for r in rankings["dept"].rows if r.rank] == []


def test_it_refuses_an_unknown_class_of_unit():
    with pytest.raises(ValueError):
        selectors.monthly_ranking(month=NOV, kind="district")
