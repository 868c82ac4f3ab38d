"""Bulk import (批量导入): the row-by-row validation report, the all-or-nothing rule, the
valid-rows-only choice, re-import idempotency, malformed files, the command's interface and the
page's step-by-step import with progress."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case, CaseEvent
from minsheng.channels import services
from minsheng.channels.importing import check_file, template_workbook
from minsheng.channels.models import ImportBatch, ImportRow
from minsheng.core.models import OutboxMessage

from .conftest import HEADER, csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


def errors_of(content: bytes, name: str = "f.xlsx") -> dict[int, dict[str, str]]:
    checked = check_file(content, name)
    out: dict[int, dict[str, str]] = {}
    for e in checked.errors:
        out.setdefault(e.row, {})[e.column] = e.message
    return out


# ---------------------------------------------------------------- the validation report


def test_a_clean_file_has_no_errors():
    checked = check_file(xlsx_bytes(good_rows(3)), "f.xlsx")
    assert checked.clean and len(checked.rows) == 3
    assert checked.rows[0].values["channel"] == "hotline" and checked.rows[0].values["phone"] == "13812345678"


def test_bad_dates_are_reported_with_row_and_column():
    now = timezone.localtime().replace(tzinfo=None)
    rows = [("路灯不亮已经三天了", "", "", "", "", "昨天下午"), ("路灯不亮已经四天了", "", "", "", "", now + dt.timedelta(days=3)),
            ("路灯不亮已经五天了", "", "", "", "", "1999-12-31"), ("路灯不亮已经六天了", "", "", "", "", "2025-02-30")]
    errors = errors_of(xlsx_bytes(rows))
    assert set(errors) == {2, 3, 4, 5} and all(set(e) == {"reported_at"} for e in errors.values())
    assert "无法识别" in errors[2]["reported_at"] and "晚于当前时间" in errors[3]["reported_at"] and "早于2000年" in errors[4]["reported_at"]


@pytest.mark.parametrize("value, expected", [
    ("2025-03-01", "2025-03-01T00:00:00+08:00"), ("2025/3/1 8:30", "2025-03-01T08:30:00+08:00"),
    ("2025年3月1日 08:30", "2025-03-01T08:30:00+08:00"), (dt.datetime(2025, 3, 1, 9, 15), "2025-03-01T09:15:00+08:00"),
    ("", ""),
])
def test_dates_are_read_in_several_spellings(value, expected):
    checked = check_file(xlsx_bytes([("路灯不亮已经三天了", "", "", "", "", value)]), "f.xlsx")
    assert checked.clean and checked.rows[0].values["reported_at"] == expected


def test_an_unknown_place_is_an_error_and_a_known_road_is_not():
    rows = [("路灯不亮已经三天了", "北京市朝阳区三里屯", "", "", "", ""), ("路灯不亮已经三天了", "棉纺路15号院", "", "", "", ""),
            ("路灯不亮已经三天了", "碧沙岗公园南门", "", "", "", "")]
    errors = errors_of(xlsx_bytes(rows))
    assert list(errors) == [2] and "不在本区地名库中" in errors[2]["address"]


def test_missing_and_short_text_are_errors():
    errors = errors_of(xlsx_bytes([("", "碧沙岗公园", "张三", "", "", ""), ("路灯", "", "", "", "", "")]))
    assert "为空" in errors[2]["text"] and "太短" in errors[3]["text"]


def test_over_long_fields_are_errors():
    rows = [("很" * 5001, "", "", "", "", ""), ("路灯不亮已经三天了", "碧沙岗" + "公园" * 200, "", "", "", ""),
            ("路灯不亮已经三天了", "", "名" * 101, "", "", ""), ("路灯不亮已经三天了", "", "", "1" * 25, "", "")]
    errors = errors_of(xlsx_bytes(rows))
    assert "过长" in errors[2]["text"] and "过长" in errors[3]["address"] and "过长" in errors[4]["name"] and "phone" in errors[5]


def test_bad_phones_and_unknown_channels_are_errors():
    errors = errors_of(xlsx_bytes([("路灯不亮已经三天了", "", "", "1381234", "", ""), ("路灯不亮已经三天了", "", "", "", "飞鸽传书", "")]))
    assert "格式不正确" in errors[2]["phone"] and "未知的渠道" in errors[3]["channel"]


def test_a_phone_typed_as_a_number_is_read_as_digits():
    checked = check_file(xlsx_bytes([("路灯不亮已经三天了", "", "", 13812345678, "", "")]), "f.xlsx")
    assert checked.clean and checked.rows[0].values["phone"] == "13812345678"


def test_formulas_in_cells_are_taken_as_text_and_never_evaluated():
    content = xlsx_bytes([('=HYPERLINK("http://evil.example/","点我")', "", "", "", "", ""), ("=1+1 路灯不亮已经三天了", "", "", "", "", "")])
    checked = check_file(content, "f.xlsx")
    assert checked.clean
    assert checked.rows[0].values["text"] == '=HYPERLINK("http://evil.example/","点我")'
    assert checked.rows[1].values["text"] == "=1+1 路灯不亮已经三天了"


def test_english_headers_and_extra_columns():
    content = xlsx_bytes([("路灯不亮已经三天了", "碧沙岗公园", "13812345678", "备注")], header=["text", "address", "phone", "memo"])
    checked = check_file(content, "f.xlsx")
    assert checked.clean and checked.ignored_columns == ["memo"] and checked.rows[0].values["phone"] == "13812345678"


def test_a_file_without_the_text_column_is_refused_as_a_whole():
    checked = check_file(xlsx_bytes([("碧沙岗公园",)], header=["地址"]), "f.xlsx")
    assert checked.file_errors and "诉求内容" in checked.file_errors[0]


def test_a_gbk_csv_from_chinese_excel_is_read():
    checked = check_file(csv_bytes(good_rows(2), encoding="gb18030"), "f.csv")
    assert checked.clean and checked.rows[0].values["text"].startswith("计划路菜市场")


def test_a_semicolon_csv_is_read():
    content = "诉求内容;地址\n路灯不亮已经三天了;碧沙岗公园\n".encode()
    checked = check_file(content, "f.csv")
    assert checked.clean and checked.rows[0].values["address"] == "碧沙岗公园"


@pytest.mark.parametrize("content, name, message", [
    (b"PK\x03\x04 this is not really a zip", "f.xlsx", "无法读取"),
    (b"\x00\x01\x02binary", "f.csv", "不是文本"),
    (b"anything", "f.xls", "另存为"),
    (b"anything", "f.pdf", "只能导入"),
    (xlsx_bytes([]), "f.xlsx", "没有数据行"),
    (b"", "f.csv", "文件是空的"),
])
def test_malformed_files_are_refused_with_a_reason(content, name, message):
    from minsheng.channels.importing import UnreadableFile

    try:
        checked = check_file(content, name)
    except UnreadableFile as exc:
        assert message in str(exc)
    else:
        assert any(message in m for m in checked.file_errors)


def test_the_template_reads_back_as_a_clean_file_with_notes():
    content = template_workbook()
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER and sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert sheet["A1"].comment is not None and "必填" in sheet["A1"].comment.text
    assert workbook.worksheets[1].title == "填写说明"
    assert sheet["F2"].is_date
    checked = check_file(content, "template.xlsx")
    assert checked.clean and len(checked.rows) == 1


# ---------------------------------------------------------------- importing


def test_nothing_is_imported_while_any_row_has_an_error(users, engine):
    rows = good_rows(3) + [("", "", "", "", "", "")]
    rows[-1] = ("路灯", "", "", "", "", "")
    report = services.import_file(content=xlsx_bytes(rows), filename="f.xlsx", acting_user=users["operator"])
    assert not report.imported and report.rows == 4 and report.created == 0 and len(report.errors) == 1
    assert not Case.objects.exists() and not ImportBatch.objects.exists()


def test_valid_only_imports_the_valid_rows(users, engine):
    rows = good_rows(3) + [("路灯", "", "", "", "", "")]
    report = services.import_file(content=xlsx_bytes(rows), filename="f.xlsx", acting_user=users["operator"], valid_only=True)
    assert report.imported and report.created == 3 and len(report.errors) == 1
    assert Case.objects.count() == 3


def test_an_imported_row_becomes_a_case_with_its_channel_source_and_suggestions(users, engine):
    report = services.import_file(content=xlsx_bytes(good_rows(3)), filename="f.xlsx", acting_user=users["operator"])
    batch = ImportBatch.objects.get()
    assert report.created == 3 and batch.created_count == 3 and batch.status == "done"
    case = Case.objects.get(text__startswith="伊河路26号院")
    assert (case.channel, case.source_type, case.source_id) == ("hotline", "import", str(batch.pk))
    assert (case.reporter_name, case.reporter_phone, case.address) == ("张三", "13812345678", "伊河路26号院")
    assert case.dispatch_meta["subcategory"][0][0] == "GY.RQ" and case.category.code == "GY.RQ"
    assert case.dispatch_meta["import_row"] == 4 and case.created_by == users["operator"]
    assert case.events.filter(action="submit").get().data == {"channel": "hotline"}
    assert case.events.filter(action="suggest").exists()
    # Personal data is encrypted at rest and still found by its blind index, as for any case.
    assert Case.objects.filter(reporter_phone="13812345678").count() == 3
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone, reporter_name FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("ms1:") and "138" not in value for value in stored)


def test_confident_rows_are_dispatched_as_intake_would(users, engine, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    services.import_file(content=xlsx_bytes(good_rows(3)), filename="f.xlsx", acting_user=users["operator"])
    gas = Case.objects.get(text__startswith="伊河路26号院")
    assert gas.state == "dispatched" and gas.main_unit.key == "dept:GAS" and gas.resolve_due_at
    event = gas.events.get(action="dispatch")
    assert event.actor_kind == "system" and event.data["auto"] is True and event.data["unit"] == "dept:GAS"
    assert gas.assignments.get().unit == gas.main_unit
    assert OutboxMessage.objects.filter(topic="case.dispatch", payload__case_id=gas.pk, payload__event_id=event.pk).exists()


def test_importing_the_same_file_twice_creates_no_duplicates(users, engine):
    content = xlsx_bytes(good_rows(5))
    first = services.import_file(content=content, filename="f.xlsx", acting_user=users["operator"])
    second = services.import_file(content=content, filename="f.xlsx", acting_user=users["operator"])
    assert (first.created, first.skipped_duplicates) == (5, 0)
    assert (second.created, second.skipped_duplicates) == (0, 5)
    assert Case.objects.count() == 5


def test_the_same_row_twice_in_one_file_is_imported_once(users, engine):
    rows = good_rows(2)
    report = services.import_file(content=xlsx_bytes(rows + rows[:1]), filename="f.xlsx", acting_user=users["operator"])
    assert (report.rows, report.created, report.skipped_duplicates) == (3, 2, 1)


def test_rows_without_a_time_are_also_recognised_on_re_import(users, engine):
    content = xlsx_bytes([("碧沙岗公园南门人行道地砖松动，老人容易绊倒", "", "", "", "", "")])
    services.import_file(content=content, filename="f.xlsx", acting_user=users["operator"])
    report = services.import_file(content=content, filename="f.xlsx", acting_user=users["operator"])
    assert report.skipped_duplicates == 1 and Case.objects.count() == 1


def test_the_import_still_works_when_the_dispatch_engine_fails(users, monkeypatch):
    def broken(self, items):
        raise RuntimeError("model unavailable")

    monkeypatch.setattr("minsheng.dispatch.services.BatchSuggester.suggest", broken)
    report = services.import_file(content=xlsx_bytes(good_rows(2)), filename="f.xlsx", acting_user=users["operator"])
    assert report.created == 2 and all(c.state == "submitted" and not c.dispatch_meta for c in Case.objects.all())


def test_repeats_within_the_file_are_marked_and_not_auto_dispatched(users, engine, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    base = timezone.localtime().replace(tzinfo=None, microsecond=0) - dt.timedelta(hours=1)
    rows = [("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了", "伊河路26号院", "", "13800000001", "", base),
            ("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了！", "伊河路26号院", "", "13800000002", "", base + dt.timedelta(minutes=5))]
    services.import_file(content=xlsx_bytes(rows), filename="f.xlsx", acting_user=users["operator"])
    first, second = Case.objects.order_by("submitted_at")
    assert second.dispatch_meta.get("import_repeats") == [2] and second.state == "submitted"
    assert first.state == "dispatched"


# ---------------------------------------------------------------- the command


def run_import(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_command_prints_json_as_its_last_line(users, engine, tmp_path):
    path = tmp_path / "appeals.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(3)))
    code, out, err = run_import(str(path), "--json")
    last = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and last == {"rows": 3, "created": 3, "skipped_duplicates": 0, "errors": []}
    code, out, _ = run_import(str(path), "--json")
    assert json.loads(out.strip().splitlines()[-1]) == {"rows": 3, "created": 0, "skipped_duplicates": 3, "errors": []}


def test_the_command_lists_errors_row_by_row_and_imports_nothing(users, engine, tmp_path):
    path = tmp_path / "appeals.csv"
    path.write_bytes(csv_bytes(good_rows(2) + [("路灯", "", "", "", "", "昨天")]))
    code, out, _ = run_import(str(path), "--quiet")
    assert code == 1 and "第4行 [text]" in out and "第4行 [reported_at]" in out and "未导入任何数据" in out
    assert not Case.objects.exists()
    code, out, _ = run_import(str(path), "--json", "--quiet")
    last = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and last["created"] == 0 and {e["column"] for e in last["errors"]} == {"text", "reported_at"}
    assert all(e["row"] == 4 for e in last["errors"])
    code, out, _ = run_import(str(path), "--valid-only", "--json", "--quiet")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["created"] == 2


def test_the_command_writes_the_template_and_the_error_report(tmp_path, users):
    template = tmp_path / "template.xlsx"
    code, out, _ = run_import("--template", str(template))
    assert code == 0 and load_workbook(template).worksheets[0]["A1"].value == "诉求内容"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([("路灯", "", "", "", "", "")]))
    report = tmp_path / "report.xlsx"
    code, _out, _ = run_import(str(bad), "--report", str(report), "--quiet")
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert code == 1 and rows[1][0] == 2 and rows[1][1] == "诉求内容"


def test_the_command_shows_a_progress_bar(users, engine, tmp_path):
    path = tmp_path / "appeals.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(3)))
    code, _out, err = run_import(str(path))
    assert code == 0 and "导入" in err and "3/3" in err


def test_an_unreadable_file_exits_2_with_json(tmp_path, users):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    code, out, _ = run_import(str(path), "--json")
    assert code == 2 and "无法读取" in json.loads(out.strip().splitlines()[-1])["errors"][0]["message"]


# ---------------------------------------------------------------- the page


def upload(client, content, name="appeals.xlsx"):
    return client.post(reverse("channels:import_home"), {"file": SimpleUploadedFile(name, content)})


def test_the_page_checks_first_then_imports_step_by_step(login, users, engine):
    client = login(users["operator"])
    response = upload(client, xlsx_bytes(good_rows(7)))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and batch.status == "validated" and batch.total_rows == 7
    assert not Case.objects.exists()  # checked, not imported
    page = client.get(reverse("channels:import_batch", args=[batch.pk])).content.decode()
    assert "全部数据行校验通过" in page
    client.post(reverse("channels:import_start", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "importing"
    fragment = client.post(reverse("channels:import_step", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert '<progress class="ch-progress" max="100" value="100"' in fragment.content.decode()
    batch.refresh_from_db()
    assert batch.status == "done" and batch.created_count == 7 and Case.objects.count() == 7
    assert ImportRow.objects.filter(batch=batch, status="created", case__isnull=False).count() == 7


def test_the_page_imports_in_chunks_and_shows_progress(login, users, engine, monkeypatch):
    monkeypatch.setattr("minsheng.channels.services.imports.STEP_ROWS", 3)
    client = login(users["operator"])
    upload(client, xlsx_bytes(good_rows(7)))
    batch = ImportBatch.objects.get()
    services.import_batch_start(batch=batch, acting_user=users["operator"], valid_only=False)
    percents = []
    while batch.status != "done":
        batch = services.import_batch_step(batch=batch, acting_user=users["operator"], limit=3)
        percents.append(batch.percent)
    assert percents == [43, 86, 100] and Case.objects.count() == 7


def test_a_file_with_errors_offers_the_report_and_the_valid_rows(login, users, engine):
    client = login(users["operator"])
    upload(client, xlsx_bytes(good_rows(2) + [("路灯", "火星基地", "", "123", "", "明天")]))
    batch = ImportBatch.objects.get()
    page = client.get(reverse("channels:import_batch", args=[batch.pk])).content.decode()
    assert "下载错误报告" in page and "仅导入有效行（2 行）" in page and "诉求内容太短" in page
    with pytest.raises(InvalidInput):
        services.import_batch_start(batch=batch, acting_user=users["operator"], valid_only=False)
    report = client.get(reverse("channels:import_report", args=[batch.pk]))
    rows = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(values_only=True))
    assert {r[1] for r in rows[1:]} == {"诉求内容", "地址", "联系电话", "反映时间"} and all(r[0] == 4 for r in rows[1:])
    client.post(reverse("channels:import_start", args=[batch.pk]), {"valid_only": "on"})
    client.post(reverse("channels:import_step", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "done" and batch.created_count == 2 and Case.objects.count() == 2


def test_an_oversize_upload_is_refused(login, users, monkeypatch):
    monkeypatch.setattr("minsheng.channels.services.imports.MAX_UPLOAD_BYTES", 1000)
    response = upload(login(users["operator"]), xlsx_bytes(good_rows(30)))
    assert response.status_code == 200 and "文件太大" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_malformed_upload_is_refused_with_its_reason(login, users):
    response = upload(login(users["operator"]), b"PK\x03\x04 nonsense", "appeals.xlsx")
    assert response.status_code == 200 and "无法读取该 Excel 文件" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_template_download(login, users):
    response = login(users["operator"]).get(reverse("channels:import_template"))
    assert response.status_code == 200 and load_workbook(io.BytesIO(response.content)).worksheets[0]["A1"].value == "诉求内容"


def test_every_imported_case_has_its_submit_event_for_the_analytics(users, engine):
    services.import_file(content=xlsx_bytes(good_rows(4)), filename="f.xlsx", acting_user=users["operator"])
    assert CaseEvent.objects.filter(action="submit", data__channel="hotline").count() == 4
    assert OutboxMessage.objects.filter(topic="case.submit").count() == 4



@pytest.mark.parametrize("pipeline", [True, False], ids=["helper-process", "one-process"])
def test_chunks_are_compared_with_the_earlier_chunks(users, engine, settings, pipeline):
    """Both ways of computing suggestions (a forked helper process working ahead — the command
    line —, or this process) compare every row with the earlier rows of the file."""
    from minsheng.channels.importing import check_file as check
    from minsheng.channels.services.imports import import_rows

    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    base = timezone.localtime().replace(tzinfo=None, microsecond=0) - dt.timedelta(hours=2)
    rows = good_rows(5) + [("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了！！", "伊河路26号院", "", "13800000009", "", base)]
    checked = [r for r in check(xlsx_bytes(rows), "f.xlsx").rows]
    batch = ImportBatch.objects.create(file_name="f.xlsx")
    created, duplicates = import_rows(rows=checked, batch=batch, acting_user=users["operator"], chunk_rows=2, pipeline=pipeline)
    assert len(created) == 6 and duplicates == 0
    cases = {c.text: c for c in Case.objects.all()}
    gas = [c for t, c in cases.items() if t.startswith("伊河路26号院")]
    assert all(c.dispatch_meta["subcategory"][0][0] == "GY.RQ" for c in gas)
    repeat = cases[rows[-1][0]]
    assert repeat.dispatch_meta.get("import_repeats") == [4] and repeat.state == "submitted"  # row 4 of the file, two chunks earlier


def test_the_command_line_path_starts_suggesting_while_checking_and_keeps_the_rules(users, engine):
    """`import_file(pipeline=True)` (the command line) hands rows to the helper process while
    the file is still being checked: a file with an error still imports nothing, the valid
    rows only when asked, each with its suggestion, and repeated or re-imported rows once."""
    four = good_rows(4)  # once: the rows' times follow the clock
    rows = four[:3] + [("路灯", "", "", "", "", "")]
    refused = services.import_file(content=xlsx_bytes(rows), filename="f.xlsx", acting_user=users["operator"], pipeline=True)
    assert not refused.imported and refused.created == 0 and not Case.objects.exists()
    report = services.import_file(content=xlsx_bytes(rows + rows[:1]), filename="f.xlsx", acting_user=users["operator"],
                                  valid_only=True, pipeline=True)
    assert (report.created, report.skipped_duplicates) == (3, 1)
    assert all(case.dispatch_meta.get("model_version") for case in Case.objects.all())
    again = services.import_file(content=xlsx_bytes(four), filename="f.xlsx", acting_user=users["operator"], pipeline=True)
    assert (again.created, again.skipped_duplicates) == (1, 3) and Case.objects.count() == 4
