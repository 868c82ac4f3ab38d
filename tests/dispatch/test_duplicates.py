"""The duplicate index: near-verbatim repeats anywhere, paraphrases within a community."""

from datetime import datetime, timedelta

from minsheng.dispatch.engine import DuplicateIndex
from minsheng.dispatch.engine.duplicates import buildings, clean_for_shingles

T0 = datetime(2025, 3, 1, 9, 0)
GARBAGE = "计划路菜市场西头的垃圾点三天没人拉了，烂菜叶堆成山，苍蝇乱飞，请尽快清运"


def test_verbatim_repeat_found_anywhere():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE)
    idx.add("b", "伏牛路早市摊贩占道经营，车过不去")
    hits = idx.query(GARBAGE + "！！")
    assert hits and hits[0][0] == "a" and hits[0][1] > 0.8
    assert all(key != "b" for key, _ in hits)


def test_same_community_filter():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE, community="JSL03", street="JSL")
    assert idx.query(GARBAGE, community="JSL03", street="JSL")[0][0] == "a"
    assert idx.query(GARBAGE, community="LSZ01", street="LSZ") == []


def test_same_street_when_community_unknown():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE, community="JSL03", street="JSL")
    assert idx.query(GARBAGE, street="JSL")[0][0] == "a"
    assert idx.query(GARBAGE, street="MFL") == []


def test_case_placed_only_to_street_is_seen_from_its_communities():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE, street="JSL")
    assert idx.query(GARBAGE, community="JSL03", street="JSL")[0][0] == "a"


def test_recency_window():
    idx = DuplicateIndex()
    idx.add("old", GARBAGE, community="JSL03", at=T0)
    idx.add("new", GARBAGE + "。", community="JSL03", at=T0 + timedelta(days=40))
    now = T0 + timedelta(days=45)
    assert [k for k, _ in idx.query(GARBAGE, community="JSL03", at=now)] == ["new"]
    assert {k for k, _ in idx.query(GARBAGE, community="JSL03", at=now, window_days=60)} == {"old", "new"}
    # cases from the future (relative to the query) are not duplicates of it
    assert idx.query(GARBAGE, community="JSL03", at=T0 - timedelta(days=1)) == []


def test_remove_and_readd():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE)
    idx.remove("a")
    idx.remove("never-added")
    assert idx.query(GARBAGE) == [] and "a" not in idx and len(idx) == 0
    idx.add("a", "完全不同的内容，电梯困人")
    idx.add("a", GARBAGE)  # replaces
    assert len(idx) == 1 and idx.query(GARBAGE)[0][0] == "a"


def test_paraphrase_found_with_topic_and_place():
    idx = DuplicateIndex()
    idx.add("a", GARBAGE, community="JSL03", street="JSL", topic="CGM.HJWS", place="计划路菜市场")
    idx.add("b", "计划路菜市场门口有人占道卖菜", community="JSL03", street="JSL",
            topic="CGM.ZDJY", place="计划路菜市场")
    paraphrase = "意见：菜市场那个垃圾站清运太不及时，天天冒尖，味道飘半条街"
    # text alone is too different
    assert idx.query(paraphrase, community="JSL03", street="JSL") == []
    hits = idx.query(paraphrase, community="JSL03", street="JSL", topic="CGM.HJWS", place="计划路菜市场")
    assert [k for k, _ in hits] == ["a"]


def test_different_buildings_are_different_problems():
    idx = DuplicateIndex()
    idx.add("a", "阳光新城北区5号楼电梯困人", community="JSL06", topic="ZF.DT", place="阳光新城北区")
    same = idx.query("阳光新城北区5号楼电梯卡住了，里面有人", community="JSL06", topic="ZF.DT",
                     place="阳光新城北区")
    other = idx.query("阳光新城北区2号楼电梯年检过期", community="JSL06", topic="ZF.DT",
                      place="阳光新城北区")
    assert [k for k, _ in same] == ["a"]
    assert other == []


def test_limit_and_order():
    idx = DuplicateIndex()
    for i in range(8):
        idx.add(i, GARBAGE + "x" * i, community="JSL03")
    hits = idx.query(GARBAGE, community="JSL03", limit=5)
    assert len(hits) == 5
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_shingle_cleaning():
    assert clean_for_shingles("市民来电反映：电话13800138000，垃圾没人拉！") == "垃圾没人拉"
    assert buildings("3号楼和五栋之间") == frozenset({"3", "五"})


#: Resubmissions written for this test: the same resident, another channel, a few words changed.
RESUBMISSIONS = [
    ("锦绣城小区6号楼电梯这周坏了三次，物业只贴了个维修中的条子，老人上下楼太难了，请督促尽快修好",
     "网上留言：锦绣城小区6号楼电梯这周已经坏了三次了，物业就贴个维修中的条子，老人上下楼太难，请督促尽快修好！"),
    ("西站路东小区门口的下水井盖丢了，晚上黑乎乎的，已经有人骑车差点掉进去，希望赶紧补上",
     "再次反映：西站路东小区门口下水井盖丢了，晚上黑乎乎，已经有人骑电动车差点掉进去，希望赶紧补上"),
    ("凯旋路菜市场每天早上五点就有货车卸货，喇叭声、吆喝声吵得整栋楼睡不着",
     "市民来电反映：凯旋路菜市场每天早上五点就有货车在卸货，喇叭声吆喝声吵得整栋楼都睡不着"),
]
#: Different problems in the same community, the same kind of complaint.
SAME_KIND_OTHER_PROBLEM = [
    "锦绣城小区地下车库灯坏了一半，物业说没经费修",
    "锦绣城小区物业费今年涨了三成，没开业主大会",
]


def test_resubmissions_are_found_from_text_alone():
    for original, again in RESUBMISSIONS:
        idx = DuplicateIndex()
        idx.add("first", original)
        assert [k for k, _ in idx.query(again)] == ["first"], again


def test_other_problems_of_the_same_kind_are_not_text_duplicates():
    idx = DuplicateIndex()
    idx.add("a", RESUBMISSIONS[0][0], community="MFL08")
    for text in SAME_KIND_OTHER_PROBLEM:
        assert idx.query(text, community="MFL08") == []
