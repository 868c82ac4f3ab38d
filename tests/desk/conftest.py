"""Helpers for the workbench tests: posting an action the way the case page does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.cases.models import Case
from tests.factories import unit


def act(client, case: Case, action: str, data: dict | None = None, *, version: int | None = None, **extra):
    """POST one action to the case page's endpoint, carrying the case version."""
    payload = {"version": case.version if version is None else version, **(data or {})}
    return client.post(reverse("desk:act", args=[case.pk, action]), payload, **extra)


def valid_data(action: str, *, master: Case | None = None) -> dict:
    """Input that the action's form and service accept, for a case dispatched to street:JSL."""
    return {
        "accept": lambda: {},
        "reject": lambda: {"reason": "不属于受理范围"},
        "dispatch": lambda: {"unit": unit("street:JSL").pk},
        "merge": lambda: {"master": master.tracking_code if master else ""},
        "delegate": lambda: {"community": unit("community:JSL03").pk},
        "acknowledge": lambda: {},
        "contact": lambda: {"note": "已电话联系群众，约定明天上午到现场查看"},
        "reply": lambda: {"reply_text": "已协调环卫所清运垃圾，并安排每日巡查，群众表示认可。"},
        "return": lambda: {"reason": "该问题属于供水公司职责，请改派"},
        "request_extension": lambda: {"working_days": 3, "reason": "需要协调多个部门现场会商"},
        "decide_extension": lambda: {"decision": "approve", "note": "同意"},
        "approve": lambda: {},
        "send_back": lambda: {"reason": "答复未说明处理结果，请补充"},
        "add_co_unit": lambda: {"unit": unit("dept:SJJ").pk},
        "supervise": lambda: {"level": 2, "reason": "群众多次反映，请加快办理"},
        "feedback_close": lambda: {"rating": "satisfied", "comment": "处理及时"},
        "feedback_reopen": lambda: {"comment": "垃圾又堆起来了"},
        "note": lambda: {"text": "已与街道城管科沟通"},
    }[action]()


def errors_in(response) -> list[str]:
    """The error messages a page shows (for assertion messages)."""
    import re

    html = response.content.decode()
    return re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S) + re.findall(r'role="alert">(.*?)</', html, re.S)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
