"""Fixtures for the listening channels: a small, quickly trained dispatch engine (so the
tests do not depend on the cached production model), data builders, files to import."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.utils import timezone
from openpyxl import Workbook
from PIL import Image

from minsheng.channels import services
from minsheng.channels.models import SuggestionBox
from tests.factories import unit

#: Enough appeals of a few subcategories for the engine to classify the tests' texts.
CORPUS = [
    *[{"text": t, "subcategory": "CGM.HJWS", "urgency": "normal"} for t in (
        "小区门口的垃圾堆了好几天没人清运，臭气熏天", "垃圾桶满了没人倒，苍蝇到处飞，赶紧安排清运垃圾",
        "公厕脏得没法进，保洁好久没来打扫了", "路边垃圾点天天冒尖，环卫车三天才来一次",
        "建筑垃圾倒在路边没人清理，垃圾越堆越多", "楼下垃圾站清运不及时，夏天味道太大了")],
    *[{"text": t, "subcategory": "CGM.ZDJY", "urgency": "normal"} for t in (
        "早市摊贩把摊子摆到马路中间，车过不去", "流动摊贩占道经营，人行道上全是卖菜的摊位",
        "夜市摊位占了半条路，晚上根本走不动", "水果店把货摆到店外人行道上，占道经营",
        "路口一堆三轮车卖菜摆摊，堵得走不动", "商户店外经营，摊位摆满人行道")],
    *[{"text": t, "subcategory": "GY.RQ", "urgency": u} for t, u in (
        ("楼道里燃气味很大，怀疑燃气泄漏，请马上派人来", "urgent"), ("家里闻到煤气味，燃气管道好像漏气了，很危险", "urgent"),
        ("新房子申请通燃气一个月了还没人来通气", "normal"), ("燃气费突然多收了好几百，燃气公司不给解释", "normal"),
        ("燃气安检的人上门要求换燃气报警器，收费太贵", "normal"), ("单元里一股天然气味，有人说漏气了，没人处理", "urgent"))],
    *[{"text": t, "subcategory": "ZF.DT", "urgency": u} for t, u in (
        ("电梯困人了，老人被困在里面半小时，快来救援", "urgent"), ("电梯卡在两层之间，有人被困，物业电话打不通", "urgent"),
        ("电梯经常坏，年检标志过期了也没人管", "normal"), ("电梯运行时晃得厉害还有异响，坐着害怕", "normal"),
        ("电梯停运一个月了，物业说在等配件", "normal"), ("电梯按钮失灵，门关不上，维保单位不来修", "normal"))],
]


@pytest.fixture(scope="session")
def _small_classifier():
    from minsheng.dispatch.engine.classifier import DispatchClassifier
    from minsheng.dispatch.engine.modelstore import load_reference_data

    taxonomy, _gazetteer = load_reference_data()
    return DispatchClassifier.train(CORPUS, taxonomy)


@pytest.fixture
def engine(_small_classifier):
    """The dispatch engine of this process, built on the small model for one test (and the
    process's own engine put back afterwards)."""
    from minsheng.dispatch import services as dispatch_services
    from minsheng.dispatch.engine.modelstore import build_engine

    holder = dispatch_services._holder
    saved = (holder.engine, holder.version, holder.last_case_id, holder.last_sweep)
    holder.engine = build_engine(classifier=_small_classifier)
    holder.version, holder.last_case_id, holder.last_sweep = _small_classifier.version, 0, 0.0
    yield holder.engine
    holder.engine, holder.version, holder.last_case_id, holder.last_sweep = saved


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def box(users):
    """The suggestion box of community JSL03."""
    return services.boxes_open(acting_user=users["admin"], units=[unit("community:JSL03")])[0]


@pytest.fixture
def other_box(users):
    return SuggestionBox.objects.get_or_create(unit=unit("community:LSZ01"))[0]


def jpeg_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


HEADER = ["诉求内容", "地址", "姓名", "联系电话", "渠道", "反映时间"]


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def good_rows(n=3, start=0):
    base = timezone.localtime() - dt.timedelta(days=2)
    texts = ["计划路菜市场门口垃圾三天没人清运，气味很大", "碧沙岗公园南门人行道地砖松动，老人容易绊倒",
             "伊河路26号院3号楼楼道里燃气味很重，怀疑漏气"]
    return [
        (f"{texts[i % 3]}（编号{start + i}）", ["计划路", "碧沙岗公园", "伊河路26号院"][i % 3], "张三", "13812345678", "热线电话",
         (base + dt.timedelta(minutes=start + i)).replace(tzinfo=None, microsecond=0))
        for i in range(n)
    ]
