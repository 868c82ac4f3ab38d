"""The case page: what it shows, which action forms it offers, and how an action's errors
come back (not allowed, changed by someone else, invalid input)."""

from __future__ import annotations

import re

from django.urls import reverse

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Category
from minsheng.core.models import AuditEntry
from tests.factories import unit

from .conftest import act

STALE = "该案件已被他人更新，请刷新后重试"


def forms_on(html: str) -> set[str]:
    return set(re.findall(r'action="/desk/cases/\d+/act/([a-z_]+)/"', html))


def selected_unit(html: str) -> str | None:
    """The option preselected in the dispatch form's main-unit select."""
    select = re.search(r'<select name="unit"[^>]*id="id_dispatch_unit"[^>]*>(.*?)</select>', html, re.S).group(1)
    found = re.findall(r'<option value="(\d+)" selected>', select)
    return found[0] if len(found) == 1 else None


def page(client, case) -> str:
    response = client.get(reverse("desk:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_case_the_timeline_and_masks_the_phone(client, users, cases):
    case = cases.make(CaseState.REPLIED)
    client.force_login(users["dispatcher"])
    html = page(client, case)
    assert case.text in html
    assert "计划路" in html and "建设路街道" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "已安排人员现场处理完毕" in html  # the reply
    for label in ("提交", "派单", "签收", "办结答复"):
        assert label in html
    assert "street-JSL" in html  # the actor of the acknowledge and reply


def test_it_offers_only_the_actions_the_user_may_take(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    client.force_login(users["street"])
    offered = forms_on(page(client, case))
    assert offered == set(services.allowed_actions(case=case, actor=users["street"]))
    assert {"acknowledge", "return", "delegate"} <= offered
    assert "dispatch" not in offered and "approve" not in offered

    client.force_login(users["leader"])
    assert forms_on(page(client, case)) == set()


def test_operator_records_feedback_from_a_return_call(client, users, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    client.force_login(users["operator"])
    html = page(client, case)
    assert {"feedback_close", "feedback_reopen"} <= forms_on(html)
    response = act(client, case, "feedback_close", {"rating": "basic", "comment": "基本解决"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.feedback, case.feedback_comment) == (CaseState.CLOSED, "basic", "基本解决")


def test_the_dispatch_form_preselects_the_street_office_for_a_territorial_subcategory(client, users, cases):
    case = cases.make(CaseState.ACCEPTED, subcategory="CGM.HJWS")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    assert selected_unit(html) == str(unit("street:JSL").pk)


def test_the_dispatch_form_preselects_the_department_otherwise(client, users, cases):
    case = cases.make(CaseState.SUBMITTED, subcategory="GY.GS")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    water = Category.objects.get(code="GY.GS").department
    assert selected_unit(html) == str(water.pk)


def _suggested_case(text, address="", threshold=1.01):
    from django.test import override_settings

    from minsheng.dispatch.services import intake_process

    case = services.case_submit(text=text, channel="web", address=address)
    with override_settings(MINSHENG_AUTO_DISPATCH_THRESHOLD=threshold):
        intake_process(case=case)
    case.refresh_from_db()
    return case


def test_it_shows_the_dispatch_suggestions_recorded_at_intake(client, users):
    case = _suggested_case("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    assert "智能分拨建议" in html and "燃气" in html and "郑州华润燃气股份有限公司" in html
    assert "伊河路社区" in html and case.dispatch_meta["model_version"] in html
    assert "采纳建议，派给郑州华润燃气股份有限公司" in html


def test_confirming_the_suggestion_dispatches_in_one_click(client, users):
    case = _suggested_case("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    form = re.search(r'<form method="post" action="([^"]+)" class="confirm-suggestion">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    response = client.post(form.group(1), fields)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.main_unit.code == "GAS" and case.category.code == "GY.RQ"
    event = case.events.get(action="dispatch")
    assert event.actor == users["dispatcher"] and event.data["subcategory"] == "GY.RQ"


def test_a_suspected_repeat_is_shown_with_a_merge_button(client, users):
    first = _suggested_case("计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", "计划路菜市场")
    again = _suggested_case("计划路菜市场门口的垃圾三天都没人清运了，太臭了", "计划路菜市场")
    client.force_login(users["dispatcher"])
    html = page(client, again)
    assert "疑似重复诉求" in html and first.tracking_code in html
    response = client.post(reverse("desk:act", args=[again.pk, "merge"]), {"version": again.version, "master": first.tracking_code})
    assert response.status_code == 302
    again.refresh_from_db()
    assert again.state == CaseState.MERGED and again.merged_into == first


def test_handlers_do_not_see_the_suggestion_panel(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    client.force_login(users["street"])
    assert "采纳建议" not in page(client, case)


def test_dispatching_from_the_page_sets_unit_co_units_and_deadlines(client, users, cases):
    case = cases.make(CaseState.ACCEPTED)
    client.force_login(users["dispatcher"])
    response = act(client, case, "dispatch", {
        "unit": unit("street:JSL").pk, "co_units": [unit("dept:CGJ").pk], "urgency": "urgent", "reason": "请尽快处理",
    })
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.main_unit.key == "street:JSL" and case.urgency == "urgent"
    assert case.resolve_due_at is not None
    assert case.assignments.filter(active=True, role="co", unit=unit("dept:CGJ")).exists()


def test_a_stale_version_gets_the_clear_message_keeps_the_input_and_changes_nothing(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    seen_version = case.version
    services.case_accept(case=case, acting_user=users["operator"])  # a colleague was quicker
    client.force_login(users["dispatcher"])
    response = act(client, case, "reject", {"reason": "我写的不予受理理由"}, version=seen_version)
    assert response.status_code == 409
    html = response.content.decode()
    assert STALE in html
    assert "我写的不予受理理由" in html  # nothing lost
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    assert not case.events.filter(action="reject").exists()


def test_a_stale_side_action_is_refused_too(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    seen_version = case.version
    services.case_acknowledge(case=case, acting_user=users["street"])
    client.force_login(users["street"])
    response = act(client, case, "contact", {"note": "已联系"}, version=seen_version)
    assert response.status_code == 409
    assert STALE in response.content.decode()
    assert not case.events.filter(action="contact").exists()


def test_invalid_input_comes_back_next_to_the_form(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["street"])
    response = act(client, case, "reply", {"reply_text": "已处理"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "答复内容过于简单" in html
    assert re.search(r'<details class="action[^"]*" id="act-reply" open>', html)
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS


def test_a_missing_reason_is_a_form_error(client, users, cases):
    case = cases.make(CaseState.DISPATCHED)
    client.force_login(users["street"])
    response = act(client, case, "return", {"reason": ""})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED


def test_an_action_the_role_may_not_take_is_403(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["leader"])
    response = act(client, case, "accept")
    assert response.status_code == 403
    assert "您的角色无权执行" in response.content.decode()


def test_an_unknown_action_is_404_and_get_is_not_allowed(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    assert act(client, case, "explode").status_code == 404
    assert client.get(reverse("desk:act", args=[case.pk, "accept"])).status_code == 405
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_merge_needs_a_master_the_user_can_see(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    master = cases.make(CaseState.DISPATCHED)
    client.force_login(users["dispatcher"])
    assert act(client, case, "merge", {"master": "NOSUCHCODE"}).status_code == 400
    assert act(client, case, "merge", {"master": master.tracking_code.lower()}).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.MERGED and case.merged_into == master


def test_deciding_an_extension_moves_the_deadline(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    due = case.resolve_due_at
    services.case_request_extension(case=case, acting_user=users["street"], working_days=5, reason="需要协调")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    assert "申请延期 5 个工作日" in html or "5 个工作日" in html
    assert act(client, case, "decide_extension", {"decision": "approve"}).status_code == 302
    case.refresh_from_db()
    assert case.resolve_due_at > due
    assert case.extensions.get().status == "approved"


def test_deciding_without_a_pending_extension_is_an_error(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["dispatcher"])
    response = act(client, case, "decide_extension", {"decision": "approve"})
    assert response.status_code == 400
    assert "没有待审批的延期申请" in response.content.decode()


def test_revealing_the_phone_is_a_post_and_is_audited(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["street"])
    assert client.get(reverse("desk:reveal_phone", args=[case.pk])).status_code == 405
    response = client.post(reverse("desk:reveal_phone", args=[case.pk]))
    assert response.status_code == 200 and "13812345678" in response.content.decode()
    entry = AuditEntry.objects.get(action="unmask")
    assert entry.actor == users["street"] and case.tracking_code in entry.target


def test_revealing_the_phone_answers_htmx_with_the_fragment(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["dispatcher"])
    response = client.post(reverse("desk:reveal_phone", args=[case.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "13812345678" in html and "<html" not in html


def test_a_leader_may_not_reveal_the_phone(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["leader"])
    assert client.post(reverse("desk:reveal_phone", args=[case.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action="unmask").exists()


def test_the_callers_earlier_cases_are_listed(client, users, cases):
    earlier = cases.make(CaseState.CLOSED, phone="13700007777", text="去年反映的路灯不亮问题")
    case = cases.make(CaseState.SUBMITTED, phone="13700007777")
    client.force_login(users["dispatcher"])
    html = page(client, case)
    assert earlier.tracking_code in html
