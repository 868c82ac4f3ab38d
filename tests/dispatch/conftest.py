"""Shared fixtures for the dispatch-engine tests (pure Python, no Django database)."""

from pathlib import Path

import pytest

from minsheng.dispatch.engine import Gazetteer, Taxonomy

DATA = Path(__file__).resolve().parents[2] / "src" / "minsheng" / "data"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.from_yaml(DATA / "taxonomy.yaml")


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_yaml(DATA / "gazetteer.yaml")


#: A tiny hand-written training corpus: four subcategories, two territorial, two department.
TINY_CORPUS = [
    # CGM.HJWS 环境卫生 (territorial)
    {"text": "小区门口的垃圾堆了好几天没人清运，臭气熏天", "subcategory": "CGM.HJWS", "urgency": "normal"},
    {"text": "垃圾桶满了没人倒，苍蝇到处飞，赶紧安排清运垃圾", "subcategory": "CGM.HJWS", "urgency": "normal"},
    {"text": "公厕脏得没法进，保洁好久没来打扫了", "subcategory": "CGM.HJWS", "urgency": "normal"},
    {"text": "路边垃圾点天天冒尖，环卫车三天才来一次", "subcategory": "CGM.HJWS", "urgency": "normal"},
    {"text": "建筑垃圾倒在路边没人清理，垃圾越堆越多", "subcategory": "CGM.HJWS", "urgency": "normal"},
    {"text": "楼下垃圾站清运不及时，夏天味道太大了", "subcategory": "CGM.HJWS", "urgency": "normal"},
    # CGM.ZDJY 占道经营 (territorial)
    {"text": "早市摊贩把摊子摆到马路中间，车过不去", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    {"text": "流动摊贩占道经营，人行道上全是卖菜的摊位", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    {"text": "夜市摊位占了半条路，晚上根本走不动", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    {"text": "水果店把货摆到店外人行道上，占道经营", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    {"text": "路口一堆三轮车卖菜摆摊，堵得走不动", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    {"text": "商户店外经营，摊位摆满人行道", "subcategory": "CGM.ZDJY", "urgency": "normal"},
    # GY.RQ 燃气 (department)
    {"text": "楼道里燃气味很大，怀疑燃气泄漏，请马上派人来", "subcategory": "GY.RQ", "urgency": "urgent"},
    {"text": "家里闻到煤气味，燃气管道好像漏气了，很危险", "subcategory": "GY.RQ", "urgency": "urgent"},
    {"text": "新房子申请通燃气一个月了还没人来通气", "subcategory": "GY.RQ", "urgency": "normal"},
    {"text": "燃气费突然多收了好几百，燃气公司不给解释", "subcategory": "GY.RQ", "urgency": "normal"},
    {"text": "燃气安检的人上门要求换燃气报警器，收费太贵", "subcategory": "GY.RQ", "urgency": "normal"},
    {"text": "单元里一股天然气味，有人说漏气了，没人处理", "subcategory": "GY.RQ", "urgency": "urgent"},
    # ZF.DT 电梯运行 (department)
    {"text": "电梯困人了，老人被困在里面半小时，快来救援", "subcategory": "ZF.DT", "urgency": "urgent"},
    {"text": "电梯卡在两层之间，有人被困，物业电话打不通", "subcategory": "ZF.DT", "urgency": "urgent"},
    {"text": "电梯经常坏，年检标志过期了也没人管", "subcategory": "ZF.DT", "urgency": "normal"},
    {"text": "电梯运行时晃得厉害还有异响，坐着害怕", "subcategory": "ZF.DT", "urgency": "normal"},
    {"text": "电梯停运一个月了，物业说在等配件", "subcategory": "ZF.DT", "urgency": "normal"},
    {"text": "电梯按钮失灵，门关不上，维保单位不来修", "subcategory": "ZF.DT", "urgency": "normal"},
]
