"""Every transition of the lifecycle, through the services, with its recorded event."""

import pytest

from minsheng.cases import services
from minsheng.cases.choices import CaseState, Feedback
from minsheng.cases.errors import ActionNotAllowed, InvalidInput, StaleCase
from minsheng.cases.models import Case, CaseEvent, Category
from minsheng.core.models import OutboxMessage
from tests.factories import unit

pytestmark = pytest.mark.django_db


def last_event(case):
    return case.events.order_by("-id").first()


def test_submit_records_a_public_event_and_outbox_message(cases):
    case = cases.make(CaseState.SUBMITTED)
    event = last_event(case)
    assert (event.action, event.to_state, event.is_public, event.actor_kind) == ("submit", "submitted", True, "resident")
    assert OutboxMessage.objects.filter(topic="case.submit", payload__case_id=case.pk).exists()


def test_submit_refuses_text_too_short(db):
    with pytest.raises(InvalidInput):
        services.case_submit(text="垃圾", channel="web")


@pytest.mark.parametrize("field", ["text", "address", "reporter_name"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "lone-surrogate"])
def test_submit_refuses_characters_the_database_cannot_store(db, field, bad):
    values = {"text": "小区门口路灯坏了好几天", "address": "建设路", "reporter_name": "王五"}
    values[field] += bad
    with pytest.raises(InvalidInput):
        services.case_submit(channel="web", **values)
    assert not Case.objects.exists()


def test_submit_refuses_unknown_channel(db):
    with pytest.raises(InvalidInput):
        services.case_submit(text="小区门口路灯坏了好几天", channel="carrier-pigeon")


def test_submit_with_the_same_idempotency_key_returns_the_first_case(db):
    first = services.case_submit(text="小区门口路灯坏了好几天", channel="web", idempotency_key="k-1")
    again = services.case_submit(text="小区门口路灯坏了好几天", channel="web", idempotency_key="k-1")
    assert first.pk == again.pk
    assert Case.objects.filter(idempotency_key="k-1").count() == 1


def test_anonymous_submission_keeps_no_name_or_phone(db):
    case = services.case_submit(text="小区门口路灯坏了好几天", channel="web", reporter_name="李四", reporter_phone="13900001111", is_anonymous=True)
    assert (case.reporter_name, case.reporter_phone) == ("", "")


def test_accept_can_correct_the_classification(cases, users):
    case = cases.make(CaseState.SUBMITTED)
    services.case_accept(case=case, acting_user=users["operator"], category=Category.objects.get(code="CGM.ZDJY"), urgency="urgent")
    assert (case.state, case.category.code, case.urgency) == ("accepted", "CGM.ZDJY", "urgent")
    assert last_event(case).actor == users["operator"]


def test_reject_needs_a_reason(cases, users):
    case = cases.make(CaseState.SUBMITTED)
    with pytest.raises(InvalidInput):
        services.case_reject(case=case, acting_user=users["dispatcher"], reason="  ")
    services.case_reject(case=case, acting_user=users["dispatcher"], reason="骚扰电话，无实际诉求")
    assert case.state == "rejected" and case.closed_at is not None


def test_dispatch_sets_main_and_co_units_and_the_three_deadlines(cases, users):
    case = cases.make(CaseState.ACCEPTED)
    services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:JSL"), co_units=[unit("dept:CGJ")])
    assert case.state == "dispatched" and case.main_unit == unit("street:JSL")
    roles = set(case.assignments.filter(active=True).values_list("unit__code", "role"))
    assert roles == {("JSL", "main"), ("CGJ", "co")}
    assert case.acknowledge_due_at < case.resolve_due_at and case.contact_due_at
    event = last_event(case)
    assert event.data["unit"] == "street:JSL" and event.data["co_units"] == ["dept:CGJ"]


def test_dispatch_refuses_a_non_handling_unit(cases, users):
    case = cases.make(CaseState.ACCEPTED)
    with pytest.raises(InvalidInput):
        services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("district:410102"))


def test_acknowledge_by_the_main_unit_starts_handling(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    services.case_acknowledge(case=case, acting_user=users["street"])
    assert case.state == "in_progress" and case.acknowledged_at


def test_acknowledge_by_a_co_unit_is_refused(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    services.case_add_co_unit(case=case, acting_user=users["dispatcher"], unit=unit("dept:CGJ"))
    with pytest.raises(ActionNotAllowed):
        services.case_acknowledge(case=case, acting_user=users["dept"])


def test_co_unit_may_record_contact(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_add_co_unit(case=case, acting_user=users["dispatcher"], unit=unit("dept:CGJ"))
    services.case_contact(case=case, acting_user=users["dept"], note="电话联系了反映人，约定明天上门")
    assert case.contacted_at is not None


def test_contact_keeps_the_first_contact_time(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_contact(case=case, acting_user=users["street"], note="第一次联系")
    first = case.contacted_at
    services.case_contact(case=case, acting_user=users["street"], note="第二次联系")
    assert case.contacted_at == first
    assert case.events.filter(action="contact").count() == 2


def test_return_sends_the_case_back_for_redispatch(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    services.case_return(case=case, acting_user=users["street"], reason="不属于本街道辖区")
    assert case.state == "accepted" and case.main_unit is None
    assert not case.assignments.filter(active=True).exists()
    services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:LSZ"))
    assert case.state == "dispatched" and case.main_unit == unit("street:LSZ")
    assert case.assignments.count() == 2


def test_delegate_passes_a_street_case_down_to_its_community(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    services.case_delegate(case=case, acting_user=users["street"], community=unit("community:JSL03"))
    assert case.main_unit == unit("community:JSL03")
    services.case_acknowledge(case=case, acting_user=users["community"])
    assert case.state == "in_progress"


def test_delegate_to_another_streets_community_is_refused(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    with pytest.raises(InvalidInput):
        services.case_delegate(case=case, acting_user=users["street"], community=unit("community:LSZ01"))


def test_reply_needs_a_real_answer(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        services.case_reply(case=case, acting_user=users["street"], reply_text="已处理")
    services.case_reply(case=case, acting_user=users["street"], reply_text="已协调环卫所当天清运，并每日巡查。")
    assert case.state == "replied" and "环卫所" in case.reply_text


def test_send_back_reopens_for_rehandling(cases, users):
    case = cases.make(CaseState.REPLIED)
    services.case_send_back(case=case, acting_user=users["dispatcher"], reason="答复未说明处理结果")
    assert case.state == "in_progress" and case.rehandle_count == 1


def test_approve_awaits_the_residents_feedback(cases, users):
    case = cases.make(CaseState.REPLIED)
    services.case_approve(case=case, acting_user=users["dispatcher"])
    assert case.state == "awaiting_feedback" and case.approved_at


@pytest.mark.parametrize("rating", [Feedback.SATISFIED, Feedback.BASIC])
def test_satisfied_feedback_closes(cases, rating):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating=rating, comment="谢谢")
    assert case.state == "closed" and case.feedback == rating and not case.no_feedback


def test_unsatisfied_feedback_reopens(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating=Feedback.UNSATISFIED, comment="垃圾又堆起来了")
    assert case.state == "in_progress" and case.rehandle_count == 1
    assert last_event(case).action == "feedback_reopen"


def test_feedback_with_an_unknown_rating_is_refused(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    with pytest.raises(InvalidInput):
        services.case_record_feedback(case=case, rating="meh")


def test_operator_may_record_feedback_from_a_return_call(cases, users):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating=Feedback.BASIC, acting_user=users["operator"])
    assert case.state == "closed" and last_event(case).actor == users["operator"]


def test_merge_counts_the_reporter_on_the_master(cases, users):
    master = cases.make(CaseState.DISPATCHED)
    dup = cases.make(CaseState.ACCEPTED, phone="13700002222")
    services.case_merge(case=dup, master=master, acting_user=users["dispatcher"])
    master.refresh_from_db()
    assert dup.state == "merged" and dup.merged_into == master
    assert master.reporter_count == 2 and master.co_reporters.filter(phone="13700002222").exists()


def test_merge_into_itself_is_refused(cases, users):
    case = cases.make(CaseState.ACCEPTED)
    with pytest.raises(InvalidInput):
        services.case_merge(case=case, master=case, acting_user=users["dispatcher"])


def test_join_adds_a_co_reporter_without_changing_state(cases):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_join(case=case, name="王五", phone="13600003333", text="我也看到了")
    assert case.state == "in_progress" and case.reporter_count == 2


def test_extension_approved_moves_the_resolve_deadline(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    before = case.resolve_due_at
    ext = services.case_request_extension(case=case, acting_user=users["street"], working_days=5, reason="需协调产权单位")
    with pytest.raises(InvalidInput):
        services.case_request_extension(case=case, acting_user=users["street"], working_days=3, reason="再申请")
    services.case_decide_extension(extension=ext, acting_user=users["dispatcher"], approve=True)
    case.refresh_from_db()
    ext.refresh_from_db()
    assert ext.status == "approved" and case.resolve_due_at > before


def test_extension_refused_keeps_the_deadline(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    before = case.resolve_due_at
    ext = services.case_request_extension(case=case, acting_user=users["street"], working_days=5, reason="需协调产权单位")
    services.case_decide_extension(extension=ext, acting_user=users["dispatcher"], approve=False, note="时限内可办结")
    case.refresh_from_db()
    assert case.resolve_due_at == before
    with pytest.raises(InvalidInput):
        services.case_decide_extension(extension=ext, acting_user=users["dispatcher"], approve=True)


def test_supervise_sets_the_level(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_supervise(case=case, acting_user=users["dispatcher"], level=2, reason="群众多次反映")
    assert case.supervision_level == 2
    with pytest.raises(InvalidInput):
        services.case_supervise(case=case, acting_user=users["dispatcher"], level=9, reason="x")


def test_a_stale_version_is_refused_and_changes_nothing(cases, users):
    case = cases.make(CaseState.DISPATCHED)
    stale = Case.objects.get(pk=case.pk)
    services.case_acknowledge(case=case, acting_user=users["street"])
    with pytest.raises(StaleCase):
        services.case_return(case=stale, acting_user=users["street"], reason="不归我们管")
    case.refresh_from_db()
    assert case.state == "in_progress"
    assert not case.events.filter(action="return").exists()


def test_side_actions_do_not_make_a_colleagues_form_stale(cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    loaded_version = case.version
    services.case_add_note(case=Case.objects.get(pk=case.pk), acting_user=users["dispatcher"], text="已电话督促")
    services.case_reply(case=case, acting_user=users["street"], reply_text="已清理完毕并安排每日巡查。", expected_version=loaded_version)
    assert case.state == "replied"


def test_every_transition_writes_one_event_with_actor_and_states(cases, users):
    case = cases.make(CaseState.CLOSED)
    actions = list(case.events.order_by("id").values_list("action", "from_state", "to_state"))
    assert actions == [
        ("submit", "", "submitted"),
        ("dispatch", "submitted", "dispatched"),
        ("acknowledge", "dispatched", "in_progress"),
        ("reply", "in_progress", "replied"),
        ("approve", "replied", "awaiting_feedback"),
        ("feedback_close", "awaiting_feedback", "closed"),
    ]
    assert CaseEvent.objects.filter(case=case, action="dispatch", actor=users["dispatcher"]).exists()


def test_feedback_records_whether_the_problem_was_resolved(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating=Feedback.BASIC, resolved=False, comment="态度好但没解决")
    assert case.state == "closed" and case.feedback_resolved is False
    assert last_event(case).data == {"rating": "basic", "resolved": False}


def test_a_satisfied_rating_without_the_resolved_answer_counts_as_resolved(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating=Feedback.SATISFIED)
    assert case.feedback_resolved is True
