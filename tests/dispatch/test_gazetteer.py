"""Locating appeals: names as residents write them, and refusing to guess.

The variant spellings below are written for these tests (not taken from any evaluation set).
"""

import pytest

from minsheng.dispatch.engine.gazetteer import fold, light_normalise, normalise


def where(gazetteer, text, address=""):
    loc = gazetteer.locate(text, address)
    return loc.street, loc.community


# ------------------------------------------------------------------ exact names
def test_listed_place(gazetteer):
    loc = gazetteer.locate("晚上在碧沙岗公园散步，发现路灯全灭了")
    assert (loc.street, loc.community) == ("LSZ", "LSZ01")
    assert loc.matched == "碧沙岗公园"
    assert "碧沙岗公园" in loc.reason
    assert loc.confidence >= 0.9
    assert not loc.ambiguous


def test_community_alias(gazetteer):
    assert where(gazetteer, "郑工集团那边的楼道灯坏了") == ("TBL", "TBL06")
    assert where(gazetteer, "我是省五建社区的居民") == ("JSL", "JSL01")


def test_street_name_gives_street_only(gazetteer):
    loc = gazetteer.locate("林山寨街道办事处的工作人员态度很好")
    assert (loc.street, loc.community) == ("LSZ", None)


def test_unknown_place_is_none(gazetteer):
    loc = gazetteer.locate("我在金水区花园路上班，想咨询一下社保怎么转移")
    assert loc.street is None and loc.community is None
    assert not loc.found


def test_text_without_place_is_none(gazetteer):
    assert where(gazetteer, "医保卡丢了怎么补办？需要带什么材料") == (None, None)


# ------------------------------------------------------------------ roads
def test_road_alias_single_street(gazetteer):
    # 陇海路 is the spoken form of 陇海西路; every community on it is in 绿东村街道
    loc = gazetteer.locate("陇海路上的井盖松了，车一过就响")
    assert (loc.street, loc.community) == ("LDC", None)


def test_road_alone_shared_by_several_streets_is_ambiguous(gazetteer):
    loc = gazetteer.locate("桐柏路上有个大坑")
    assert loc.street is None
    assert loc.ambiguous
    assert len(loc.candidates) > 1


def test_two_road_intersection(gazetteer):
    # 电厂南路 x 电厂路 and 岗坡路 x 中原西路 are each listed by exactly one community
    assert where(gazetteer, "电厂南路和电厂路交叉口红绿灯不亮") == ("TBL", "TBL10")
    assert where(gazetteer, "岗坡路中原西路口晚高峰堵死了") == ("ZYXL", "ZYXL13")


def test_intersection_listed_by_communities_of_two_streets_is_ambiguous(gazetteer):
    # 郑密路 x 航海西路: 郑密路社区 (汝河路街道) and 儿童公园社区 (航海西路街道)
    loc = gazetteer.locate("郑密路航海西路口晚高峰堵死了")
    assert loc.street is None and loc.ambiguous


def test_intersection_with_road_alias(gazetteer):
    # 淮河西路 is an alias of 淮河路; 淮河路 x 秦岭路 -> 淮西社区
    assert where(gazetteer, "淮河西路与秦岭路交叉口的隔离栏倒了") == ("RHL", "RHL05")


def test_intersection_shared_by_communities_of_two_streets_is_not_guessed(gazetteer):
    # 建设西路 x 桐柏路 is listed by communities of 建设路街道 and 棉纺路街道
    loc = gazetteer.locate("建设路桐柏路口那个公交站牌坏了")
    assert loc.street is None


# ------------------------------------------------------------------ how residents write
@pytest.mark.parametrize("text, expected", [
    ("西站西家属院门口的路灯不亮", ("TBL", "TBL02")),       # 西站西小区 written with another compound word
    ("我们杜康那栋楼水压太低", ("QLL", "QLL04")),           # community alias without 社区
    ("冯湾那边有人烧秸秆", ("HHXL", "HHXL11")),             # village without 村
    ("馨怡家园二期物业不管事", ("TBL", "TBL03")),
])
def test_dropped_suffix(gazetteer, text, expected):
    assert where(gazetteer, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("湖光园二期的物业太差了", ("SGM", "SGM10")),            # 苑 -> 园
    ("需水老街有人半夜烧垃圾", ("XS", "XS03")),              # 须 -> 需
    ("颖河游园里的健身器材坏了", ("LSZ", "LSZ05")),          # 颍 -> 颖
    ("北陈伍寨村文化广场晚上跳舞太吵", ("ZYXL", "ZYXL11")),  # exact, for contrast
    ("北陈五寨安置小区停水了", ("ZYXL", "ZYXL11")),          # 伍 -> 五
    ("锦秀城小区的电梯又坏了", ("MFL", "MFL08")),            # 绣 -> 秀
    ("闫洞新苑门口的路灯坏了", ("HHXL", "HHXL16")),          # 垌 -> 洞
    ("碧砂岗公园里有人遛狗不拴绳", ("LSZ", "LSZ01")),        # 沙 -> 砂
])
def test_homophone_typos(gazetteer, text, expected):
    assert where(gazetteer, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("国棉四厂的家属院东区暖气不热", ("MFL", "MFL03")),
    ("天汇城的购物中心门口天天堵车", ("MFL", "MFL09")),
    ("锦艺城的东区垃圾没人拉", ("QLL", "QLL07")),
])
def test_inserted_de(gazetteer, text, expected):
    assert where(gazetteer, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("帝湖西王府门口的井盖没了", ("HHXL", "HHXL01")),        # 帝湖花园西王府 without the estate name
    ("万达广场门口天天有人发小广告", ("ZYXL", "ZYXL01")),     # 中原万达广场 without 中原
    ("工业大学家属院的暖气不热", ("LSZ", "LSZ04")),          # 河南工业大学家属院 without 河南
    ("花语里幼儿园门口违停严重", ("XLH", "XLH02")),
    ("纺织工业遗址博物馆门口占道", ("MFL", "MFL01")),         # 郑州纺织工业遗址博物馆
])
def test_shortened_names(gazetteer, text, expected):
    assert where(gazetteer, text) == expected


def test_one_character_typo_in_long_name(gazetteer):
    # 阳光新城幼儿园 with one character dropped
    assert where(gazetteer, "阳光新城幼园门口堵车") == ("JSL", "JSL06")


def test_spoken_house_number(gazetteer):
    assert where(gazetteer, "前进路五十号院的下水道堵了") == ("JSL", "JSL02")


# ------------------------------------------------------------------ refusing to guess
def test_homophone_that_fits_two_communities_is_ambiguous(gazetteer):
    # 金苑 (汝河路街道) and 金源 (秦岭路街道) fold to the same spelling; 金园 could be either
    loc = gazetteer.locate("金园小区门口的路灯坏了")
    assert loc.street is None
    assert loc.ambiguous


def test_name_shared_by_two_communities_is_ambiguous(gazetteer):
    # 三官庙 is a community in 三官庙街道 and a village in 中原西路街道
    loc = gazetteer.locate("三官庙那边的垃圾没人拉")
    assert loc.street is None and loc.ambiguous


def test_ambiguous_name_settled_by_road(gazetteer):
    # 三官庙社区 lists 中原路, 三官庙村 lists 中原西路: the road decides
    assert where(gazetteer, "中原西路边上三官庙那块路灯不亮") == ("ZYXL", "ZYXL17")


def test_places_in_two_streets_are_not_guessed(gazetteer):
    loc = gazetteer.locate("我从碧沙岗公园走到锦艺城购物中心，一路上井盖都是坏的")
    assert loc.street is None and loc.ambiguous


def test_places_in_one_street_give_that_street(gazetteer):
    loc = gazetteer.locate("锦绣城小区和天汇城北区之间那段路灯不亮")
    assert loc.street == "MFL"


def test_common_words_are_not_places(gazetteer):
    for text in ("家里电缆老化了，经常跳闸", "去区人社局窗口办退休手续排了很久",
                 "在农业银行办业务被乱收费", "百花齐放的季节，公园里人很多"):
        assert gazetteer.locate(text).street is None, text


def test_institution_alias_with_location_word(gazetteer):
    assert where(gazetteer, "人社局家属院的下水道堵了") == ("LSZ", "LSZ09")
    assert where(gazetteer, "电缆厂家属院里电动车乱充电") == ("LDC", "LDC02")


# ------------------------------------------------------------------ address field
def test_address_wins_over_text(gazetteer):
    loc = gazetteer.locate("上次去碧沙岗公园的时候就发现了", address="锦艺城西区5号楼")
    assert (loc.street, loc.community) == ("QLL", "QLL08")


def test_text_used_when_address_does_not_resolve(gazetteer):
    loc = gazetteer.locate("碧沙岗公园北门的路灯坏了", address="郑州市")
    assert (loc.street, loc.community) == ("LSZ", "LSZ01")


def test_text_refines_street_only_address(gazetteer):
    loc = gazetteer.locate("颍河游园健身器材坏了", address="林山寨街道")
    assert (loc.street, loc.community) == ("LSZ", "LSZ05")


# ------------------------------------------------------------------ autocomplete and helpers
def test_suggest_prefix(gazetteer):
    options = gazetteer.suggest("碧沙")
    labels = [o["label"] for o in options]
    assert "碧沙岗公园" in labels
    first = options[0]
    assert first["street"] == "LSZ" and first["street_name"] == "林山寨街道"
    assert all(o["label"].startswith("碧沙") for o in options[:3])


def test_suggest_road_and_limit(gazetteer):
    options = gazetteer.suggest("桐柏", limit=3)
    assert len(options) == 3
    roads = [o for o in gazetteer.suggest("桐柏路", limit=20) if o["kind"] == "road"]
    assert roads and roads[0]["street"] is None  # runs through several streets


def test_suggest_tolerates_homophone(gazetteer):
    assert any(o["label"] == "湖光苑" for o in gazetteer.suggest("湖光园"))


def test_normalisation_keeps_length_and_offsets():
    light, offsets = light_normalise("碧沙岗 的 公园")
    assert light == "碧沙岗公园"
    assert offsets == [0, 1, 2, 6, 7]
    assert len(fold(light)) == len(light)
    assert normalise("金苑") == normalise("金源") == normalise("金园")


def test_compound_word_inside_name_dropped(gazetteer):
    assert where(gazetteer, "国棉五厂北区3号楼暖气不热") == ("MFL", "MFL06")
    # the estate without its part: both parts lie in 棉纺路街道, so the street is known
    assert where(gazetteer, "国棉四厂那边停水了") == ("MFL", None)


def test_government_as_addressee_is_not_a_place(gazetteer):
    assert where(gazetteer, "希望中原区人民政府重视这个问题") == (None, None)
    assert where(gazetteer, "郑州市人民政府门口有人摆摊") == ("LSZ", "LSZ09")


#: Appeals that name no place in the district (written for this test).
NO_PLACE = [
    "退休手续怎么办，需要准备哪些材料？",
    "孩子今年上小学，学区是怎么划的，去哪里登记？",
    "网上买的东西质量有问题，商家不给退款",
    "我在外地住院，异地就医备案后结算不了",
    "公司拖欠我三个月工资，老板电话不接",
    "预付卡的健身房突然关门跑路了",
    "表扬一下派出所的民警，帮我找回了丢失的钱包",
    "建议在地铁站多设置几个无障碍电梯",
    "打网约车被绕路多收了四十块钱",
    "营业执照变更经营范围一直审核不通过",
    "低保申请交上去两个月了没消息",
    "残疾证到期了换证需要重新鉴定吗",
    "退役军人优待证什么时候能发下来",
    "医院挂号太难了，专家号一放就没",
    "小区物业乱收停车费，业主很不满",
    "楼上邻居天天半夜拖椅子，沟通无效",
    "燃气公司上门安检要求必须买他们的报警器",
    "电动车在楼道里充电，很危险",
    "希望政府多建一些公共停车场",
    "农民工工资被包工头卷走了，二十多人讨薪无门",
    "家里电表走得特别快，怀疑电表有问题",
    "培训机构不给退费，合同上写的可以退",
    "夜里工地施工太吵，睡不着觉",
    "垃圾分类的桶总是满的，没人及时清运",
    "出租车司机拒载，说目的地太近",
    "政务大厅窗口排队两个小时，效率太低",
    "身份证丢了补办要多长时间",
    "这个季节百花盛开，建议公园延长开放时间",
    "中原区的政策宣传做得很到位",
    "开元年间的古建筑应该保护起来",
]


@pytest.mark.parametrize("text", NO_PLACE)
def test_appeals_without_a_place_stay_unplaced(gazetteer, text):
    assert gazetteer.locate(text).street is None


def test_short_name_after_a_residence_cue(gazetteer):
    assert where(gazetteer, "我家住在杜康，楼道灯坏了") == ("QLL", "QLL04")
    assert where(gazetteer, "我们电缆老化了") == (None, None)
