"""The phrase pools: every template renders, every reply can be reached, texts read right."""

from __future__ import annotations

import random
import re

import pytest

from minsheng.demo import phrases as P
from minsheng.demo.texts import Place, Slots, TextMaker

PLACE = Place("计划路社区", "建设路街道", ("计划路小区", "计划路菜市场", "计划路5号院", "计划路幼儿园"), ("计划路", "建设西路"),
              ("计划路", "建设西路", "伏牛路"))
_SLOT = re.compile(r"\{[^}]*\}")


@pytest.mark.parametrize("code", sorted(P.POOLS))
def test_every_template_of_a_subcategory_renders(code):
    rng = random.Random(1)
    for key in ("P", "U", "D", "A", "R"):
        for template in P.POOLS[code].get(key, []):
            text = (template.partition("::")[2] or template).format_map(Slots(rng, PLACE))
            assert "{" not in text and "}" not in text and text.strip()


@pytest.mark.parametrize("code", sorted(P.POOLS))
def test_every_keyed_reply_answers_some_problem(code):
    pool = P.POOLS[code]
    problems = [_SLOT.sub("", p) for p in pool["P"] + pool.get("U", [])]
    for reply in pool["R"]:
        keys, sep, _ = reply.partition("::")
        if sep:
            assert any(k in p for k in keys.split("|") for p in problems), reply


def test_a_reply_answers_the_problem_that_was_raised():
    maker = TextMaker(random.Random(2))
    slots = Slots(maker.rng, PLACE)
    reply = maker.reply(code="ZF.DT", name="", note="", slots=slots, core="计划路小区3号楼电梯困人，里面有老人和孩子")
    assert "被困人员" in reply


def test_a_hotline_record_names_the_caller_it_was_given():
    maker = TextMaker(random.Random(3))
    texts = [maker.appeal(code="CGM.HJWS", name="", note="", channel="hotline", place=PLACE, urgent=False, caller="韩女士").text
             for _ in range(60)]
    named = [t for t in texts if "来电反映" in t and "女士" in t]
    assert named and all(t.startswith("韩女士") for t in named)


def test_questions_do_not_complain_that_nobody_came():
    maker = TextMaker(random.Random(4))
    for _ in range(100):
        text = maker.appeal(code="ZW.ZX", name="", note="", channel="web", place=PLACE, urgent=False).text
        assert not any(d.split("{")[0] and d.split("{")[0] in text for d in P.GENERIC_DETAILS)


def test_a_subcategory_without_phrases_still_gets_a_text():
    maker = TextMaker(random.Random(5))
    appeal = maker.appeal(code="XX.NEW", name="新小类", note="甲问题、乙问题", channel="web", place=PLACE, urgent=False)
    assert "问题" in appeal.text and appeal.address
    assert maker.reply(code="XX.NEW", name="新小类", note="甲问题、乙问题", slots=appeal.slots, core=appeal.core)
