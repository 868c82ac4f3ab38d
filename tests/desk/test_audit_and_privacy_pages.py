"""The admin's audit-log page (filter, export, chain check), the erasure page, and the
case page's masked personal data with its audited "show" buttons."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.core.models import AuditEntry
from minsheng.core.services import audit_record


def test_only_the_admin_sees_the_audit_log(client, users):
    for role in ("operator", "dispatcher", "leader", "street"):
        client.force_login(users[role])
        assert client.get(reverse("desk:audit")).status_code == 403
        assert client.get(reverse("desk:audit_export")).status_code == 403
        assert client.post(reverse("desk:audit_verify")).status_code == 403
    client.force_login(users["admin"])
    assert client.get(reverse("desk:audit")).status_code == 200


def test_the_audit_log_filters_by_kind_and_actor(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    audit_record(action="export", actor=users["operator"], target="desk.queue:all")
    client.force_login(users["admin"])
    html = client.get(reverse("desk:audit"), {"group": "case"}).content.decode()
    assert f"case:{case.tracking_code}" in html and "desk.queue:all" not in html
    html = client.get(reverse("desk:audit"), {"actor": "operator"}).content.decode()
    assert "desk.queue:all" in html and f"case:{case.tracking_code}" not in html


def test_the_audit_export_is_formula_safe_and_itself_audited(client, users):
    audit_record(action="login.failure", actor_name='=HYPERLINK("http://evil.example","x")', target="user:=1+1")
    client.force_login(users["admin"])
    response = client.get(reverse("desk:audit_export"), {"group": "login"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in values and "'user:=1+1" not in values and "user:=1+1" in values
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)
    entry = AuditEntry.objects.filter(action="export", target="audit").get()
    assert entry.actor == users["admin"] and entry.detail["filters"] == {"group": "login"}


def test_the_chain_check_reports_an_edited_entry(client, users):
    audit_record(action="test", target="a")
    audit_record(action="test", target="b")
    client.force_login(users["admin"])
    assert "哈希链校验通过" in client.post(reverse("desk:audit_verify")).content.decode()
    forged = AuditEntry.objects.filter(action="test").first()
    AuditEntry.objects.filter(pk=forged.pk).update(target="forged")
    response = client.post(reverse("desk:audit_verify"))
    assert response.status_code == 409 and "哈希链校验未通过" in response.content.decode()


# ---------------------------------------------------------------- personal data on the case page


def _case_with_details():
    return services.case_submit(text="楼道灯坏了一个月没人修", channel="web", address="伊河路26号院3号楼", reporter_name="李四",
                                reporter_phone="13912345678", reporter_id_number="410102199003071230")


def test_the_case_page_masks_name_address_and_id_number(client, users, db):
    case = _case_with_details()
    client.force_login(users["dispatcher"])
    html = client.get(reverse("desk:case", args=[case.pk])).content.decode()
    assert "李*" in html and "伊河路**号院*号楼" in html and "4101**********1230" in html and "139****5678" in html
    for secret in ("李四", "伊河路26号院3号楼", "410102199003071230", "13912345678"):
        assert secret not in html


def test_showing_a_field_is_a_post_that_is_audited(client, users, db):
    case = _case_with_details()
    client.force_login(users["operator"])
    assert client.get(reverse("desk:reveal", args=[case.pk, "address"])).status_code == 405
    response = client.post(reverse("desk:reveal", args=[case.pk, "address"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "伊河路26号院3号楼" in response.content.decode() and "<html" not in response.content.decode()
    response = client.post(reverse("desk:reveal", args=[case.pk, "id-number"]))
    assert "410102199003071230" in response.content.decode()
    assert list(AuditEntry.objects.filter(action="unmask").values_list("detail__field", flat=True)) == ["reporter_id_number", "address"]
    assert client.post(reverse("desk:reveal", args=[case.pk, "text"])).status_code == 404


def test_a_leader_sees_no_show_button_and_is_refused(client, users, db):
    case = _case_with_details()
    client.force_login(users["leader"])
    html = client.get(reverse("desk:case", args=[case.pk])).content.decode()
    assert reverse("desk:reveal", args=[case.pk, "address"]) not in html
    assert client.post(reverse("desk:reveal", args=[case.pk, "name"])).status_code == 403


def test_the_ledger_masks_names_and_addresses(client, users, db):
    _case_with_details()
    client.force_login(users["dispatcher"])
    response = client.get(reverse("desk:export", args=["all"]))
    text = " ".join(str(c.value) for row in load_workbook(io.BytesIO(response.content)).active.iter_rows() for c in row if c.value)
    assert "李*" in text and "伊河路**号院" in text and "李四" not in text and "26号院" not in text


# ---------------------------------------------------------------- erasure page


def test_the_admin_finds_then_erases_a_residents_data(client, users, cases):
    case = cases.make(CaseState.CLOSED, phone="13812345678")
    client.force_login(users["admin"])
    response = client.post(reverse("desk:erasure"), {"phone": "13812345678", "reason": "申请 2026-7"})
    html = response.content.decode()
    assert case.tracking_code in html and "确认删除" in html and "13812345678" not in html.split("<form")[1].split("value=")[0]
    case.refresh_from_db()
    assert case.reporter_phone == "13812345678"  # not yet
    response = client.post(reverse("desk:erasure"), {"phone": "13812345678", "reason": "申请 2026-7", "confirm": "True"}, follow=True)
    assert "已删除 1 件诉求中的个人信息" in response.content.decode()
    case.refresh_from_db()
    assert case.reporter_phone == "" and AuditEntry.objects.filter(action="privacy.erase").exists()


def test_only_the_admin_opens_the_erasure_page(client, users):
    client.force_login(users["dispatcher"])
    assert client.get(reverse("desk:erasure")).status_code == 403


def test_the_hotline_records_an_id_number_when_given_and_refuses_a_wrong_one(client, users):
    from minsheng.cases.models import Case

    client.force_login(users["operator"])
    data = {"token": "tok-id-1", "reporter_phone": "13812345678", "text": "来电反映小区门口井盖缺失，很危险", "urgency": "normal",
            "reporter_id_number": "410102199003071234"}
    response = client.post(reverse("desk:hotline"), data)
    assert response.status_code == 400 and "校验位" in response.content.decode()
    response = client.post(reverse("desk:hotline"), {**data, "reporter_id_number": "410102199003071230"})
    assert response.status_code == 302
    assert Case.objects.get().reporter_id_number == "410102199003071230"
