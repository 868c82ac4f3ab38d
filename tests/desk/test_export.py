"""The Excel export of a queue: the same rows as the page, formatted as a ledger, personal
data masked, formulas defused, and an audit entry for every export."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.core.models import AuditEntry
from minsheng.desk.export import escape_formula


def export(client, key="all", **params):
    response = client.get(reverse("desk:export", args=[key]), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment;" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content)).active


def rows_by_code(sheet) -> dict[str, dict]:
    header = [c.value for c in sheet[1]]
    return {row[0].value: {h: cell for h, cell in zip(header, row)} for row in sheet.iter_rows(min_row=2)}


def test_the_export_is_a_formatted_ledger(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    client.force_login(users["dispatcher"])
    sheet = export(client)
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["D"].width >= 40  # the appeal text
    row = rows_by_code(sheet)[case.tracking_code]
    submitted = row["反映时间"]
    assert submitted.is_date and isinstance(submitted.value, dt.datetime)
    assert submitted.number_format == "yyyy-mm-dd hh:mm"
    assert row["办结期限"].is_date and row["办结期限"].value is not None
    assert row["承办单位"].value == "建设路街道"
    assert row["状态"].value == "待签收"


def test_the_phone_is_masked(client, users, cases):
    case = cases.make(CaseState.SUBMITTED, phone="13912345678")
    client.force_login(users["dispatcher"])
    sheet = export(client)
    assert rows_by_code(sheet)[case.tracking_code]["联系电话"].value == "139****5678"
    assert not any("13912345678" in str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)


def test_text_that_looks_like_a_formula_is_escaped(client, users):
    evil = services.case_submit(text='=HYPERLINK("http://evil.example","点我领补贴")', channel="web", address="+1+cmd|' /C calc'!A0")
    at = services.case_submit(text="@SUM(1+1) 小区门口积水严重", channel="web", address="-2+3")
    client.force_login(users["dispatcher"])
    rows = rows_by_code(export(client))
    for code in (evil.tracking_code, at.tracking_code):
        for title in ("诉求内容", "地址"):
            cell = rows[code][title]
            assert cell.data_type == "s"
            assert cell.value.startswith("'"), cell.value
    assert rows[evil.tracking_code]["诉求内容"].value == "'" + evil.text


def test_escape_formula_leaves_ordinary_text_alone():
    assert escape_formula("小区门口=积水") == "小区门口=积水"
    assert escape_formula("-5度停暖") == "'-5度停暖"
    assert escape_formula("\t=1") == "'\t=1"
    assert escape_formula("") == ""


def test_the_export_has_exactly_the_rows_of_the_filtered_page(client, users, cases):
    dispatched = cases.make(CaseState.DISPATCHED)
    submitted = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    assert set(rows_by_code(export(client, state="dispatched"))) == {dispatched.tracking_code}
    assert set(rows_by_code(export(client, "to_accept"))) == {submitted.tracking_code}
    page = client.get(reverse("desk:queue", args=["all"]), {"state": "dispatched"}).content.decode()
    assert reverse("desk:export", args=["all"]) + "?state=dispatched" in page


def test_every_export_is_audited(client, users, cases):
    cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    export(client, "all", state="submitted")
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == users["dispatcher"]
    assert entry.detail["queue"] == "all" and entry.detail["filters"] == {"state": "submitted"} and entry.detail["rows"] == 1
    assert entry.ip == "127.0.0.1"


def test_control_characters_do_not_break_the_file(client, users):
    case = services.case_submit(text="楼道\x0b灯坏了\x01好久没人修", channel="web")
    client.force_login(users["dispatcher"])
    assert rows_by_code(export(client))[case.tracking_code]["诉求内容"].value == "楼道灯坏了好久没人修"
