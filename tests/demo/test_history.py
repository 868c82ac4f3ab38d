"""The demo history: a valid path through the lifecycle for every case, consistent rows,
every open state present, and rows the real services can carry on from."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from minsheng.cases import services
from minsheng.cases.choices import OPEN_STATES, CaseState, DueFlag, ExtensionStatus
from minsheng.cases.models import Case, CaseAssignment, CaseEvent, CoReporter, ExtensionRequest
from minsheng.cases.services import TRACKING_ALPHABET as _TRACKING_ALPHABET
from minsheng.cases.workflow import RESIDENT, TRANSITIONS
from minsheng.core.models import User
from minsheng.demo.history import DEMO_SOURCE, history_exists, history_generate
from minsheng.demo.services import demo_users_ensure

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 10, 10, 30, tzinfo=TZ)  # a Wednesday morning
CASES = 240


@pytest.fixture
def history():
    with time_machine.travel(NOW, tick=False):
        demo_users_ensure(password="demo-pass-123")
        return history_generate(cases=CASES, seed=7)


def _chains():
    chains = defaultdict(list)
    for event in CaseEvent.objects.order_by("case_id", "at", "id"):
        chains[event.case_id].append(event)
    return chains


def test_it_creates_the_requested_number_of_cases(history):
    assert history.cases == CASES
    assert Case.objects.filter(source_type=DEMO_SOURCE).count() == CASES
    assert history.events == CaseEvent.objects.count()


def test_every_event_chain_is_a_path_through_the_workflow(history):
    cases = {c.pk: c for c in Case.objects.all()}
    for case_id, events in _chains().items():
        case = cases[case_id]
        first, *rest = events
        assert (first.action, first.from_state, first.to_state, first.is_public) == ("submit", "", CaseState.SUBMITTED, True)
        state, version, flag = CaseState.SUBMITTED, 1, DueFlag.NONE
        for event in rest:
            assert event.from_state == state, (case.tracking_code, event.action)
            if event.action == "flag":  # the periodic job: not a transition of the table
                assert state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS) and event.to_state == state
                assert event.actor_kind == "system" and not event.is_public
                flag = event.data["flag"]
                continue
            transition = TRANSITIONS[event.action]
            assert state in transition.sources, (case.tracking_code, event.action, state)
            assert event.to_state == (transition.target or state)
            assert event.is_public == transition.public
            if transition.target is not None:
                version += 1
            if event.action in ("dispatch", "return", "acknowledge", "send_back", "feedback_reopen") or (
                event.action == "decide_extension" and event.data["approved"]
            ):
                flag = DueFlag.NONE  # as the services clear it
            state = event.to_state
        assert (case.state, case.version, case.due_flag) == (state, version, flag), case.tracking_code


def test_timestamps_increase_and_stay_in_the_past(history):
    for case_id, events in _chains().items():
        times = [e.at for e in events]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert times[-1] <= NOW
        assert Case.objects.get(pk=case_id).submitted_at == times[0]
    assert Case.objects.filter(submitted_at__lt=NOW - dt.timedelta(days=366)).count() == 0


def test_actors_are_who_the_workflow_allows(history):
    users = {u.pk: u for u in User.objects.all()}
    for event in CaseEvent.objects.exclude(action__in=["submit", "flag"]):
        transition = TRANSITIONS[event.action]
        if event.actor_kind == "staff":
            user = users[event.actor_id]
            assert user.role in transition.roles or (user.is_superuser and "admin" in transition.roles), event.action
            assert event.actor_unit_id == user.unit_id
        else:
            assert event.actor_id is None and event.actor_unit_id is None
            assert event.actor_kind in transition.roles, event.action


def test_handlers_act_only_on_cases_their_unit_handles(history):
    for event in CaseEvent.objects.filter(action__in=["acknowledge", "reply", "return", "contact", "request_extension", "delegate"]):
        assert event.actor_unit_id == event.unit_id or event.action == "delegate", event.action
    for event in CaseEvent.objects.filter(action="delegate").select_related("unit", "actor_unit"):
        assert event.unit.parent_id == event.actor_unit_id


def test_case_fields_agree_with_their_events(history):
    chains = _chains()
    for case in Case.objects.prefetch_related("assignments"):
        events = chains[case.pk]
        dispatches = [e for e in events if e.action == "dispatch"]
        if dispatches:
            last = dispatches[-1]
            assert case.dispatched_at == last.at
            assert case.acknowledge_due_at == dt.datetime.fromisoformat(last.data["acknowledge_due_at"])
            # The deadline in force: the last dispatch's, moved by approved extensions and reset
            # by re-handling (send back, an unsatisfied resident).
            movers = [e for e in events if e.at > last.at and (
                e.action in ("send_back", "feedback_reopen") or (e.action == "decide_extension" and e.data["approved"]))]
            due = movers[-1].data["resolve_due_at"] if movers else last.data["resolve_due_at"]
            assert case.resolve_due_at == dt.datetime.fromisoformat(due)
            assert case.accepted_at == next(e.at for e in events if e.action in ("accept", "dispatch"))
        active_main = [a for a in case.assignments.all() if a.active and a.role == "main"]
        assert [a.unit_id for a in active_main] == ([case.main_unit_id] if case.main_unit_id else [])
        if case.state in (CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED):
            assert case.closed_at == events[-1].at  # nothing happens to a case after it is closed
        assert case.rehandle_count == sum(e.action in ("send_back", "feedback_reopen") for e in events)
        joins = sum(e.action == "join" for e in events)
        merged_in = sum(c.reporter_count for c in Case.objects.filter(merged_into=case))
        assert case.reporter_count == 1 + joins + merged_in
        assert case.co_reporters.count() == joins + Case.objects.filter(merged_into=case).count()


def test_every_open_state_and_work_queue_has_cases(history):
    states = set(Case.objects.values_list("state", flat=True))
    assert set(OPEN_STATES) <= states
    assert Case.objects.filter(state=CaseState.ACCEPTED, events__action="return").exists()
    assert ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).exists()
    handling = Case.objects.filter(state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS])
    assert handling.filter(due_flag=DueFlag.YELLOW).exists() and handling.filter(due_flag=DueFlag.RED).exists()
    assert Case.objects.open().filter(supervision_level__gt=0).exists()
    assert Case.objects.filter(state=CaseState.DISPATCHED, main_unit__kind="community").exists()


def test_outcomes_include_returns_merges_rejections_and_unrated_closures(history):
    actions = Counter(CaseEvent.objects.values_list("action", flat=True))
    for action in ("return", "merge", "reject", "send_back", "feedback_reopen", "close_no_feedback", "decide_extension"):
        assert actions[action] > 0, action
    assert Case.objects.filter(urgency="urgent").exists() and Case.objects.filter(urgency="complex").exists()
    assert Case.objects.filter(due_flag=DueFlag.RED, state=CaseState.CLOSED).exists()


def test_tracking_codes_follow_the_service_format(history):
    pattern = re.compile(rf"^\d{{6}}[{_TRACKING_ALPHABET}]{{5}}$")
    for code, submitted_at in Case.objects.values_list("tracking_code", "submitted_at"):
        assert pattern.match(code)
        assert code[:6] == f"{timezone.localtime(submitted_at):%y%m%d}"


def test_a_second_run_adds_nothing(history):
    events = CaseEvent.objects.count()
    again = history_generate(cases=CASES, seed=8)
    assert again.skipped and history_exists()
    assert (Case.objects.count(), CaseEvent.objects.count()) == (CASES, events)


def test_the_same_seed_gives_the_same_history(history):
    def snapshot():
        return sorted(Case.objects.values_list("tracking_code", "state", "text", "main_unit_id", "due_flag"))

    first = snapshot()
    Case.objects.update(merged_into=None)
    Case.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        history_generate(cases=CASES, seed=7)
    assert snapshot() == first


def _handler(case: Case) -> User:
    return User.objects.get(role="handler", unit=case.main_unit, username__contains="-")


def test_the_services_carry_a_generated_case_to_its_close(history):
    dispatcher = User.objects.get(username="dispatcher")
    case = (Case.objects.filter(state=CaseState.IN_PROGRESS, extensions__isnull=True, assignments__active=True)
            .exclude(main_unit=None).first())
    with time_machine.travel(NOW + dt.timedelta(minutes=5)):
        services.case_reply(case=case, acting_user=_handler(case), reply_text="已安排人员到现场处理完毕，并与诉求人沟通确认。")
        services.case_approve(case=case, acting_user=dispatcher)
        services.case_record_feedback(case=case, rating="satisfied", acting_user=RESIDENT)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.feedback == "satisfied"
    assert list(case.events.order_by("at", "id").values_list("action", flat=True))[-3:] == ["reply", "approve", "feedback_close"]


def test_the_services_redispatch_a_returned_case_and_decide_a_pending_extension(history):
    dispatcher = User.objects.get(username="dispatcher")
    returned = Case.objects.filter(state=CaseState.ACCEPTED, events__action="return").first()
    extension = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).select_related("case").first()
    unit = returned.events.filter(action="return").last().unit
    with time_machine.travel(NOW + dt.timedelta(minutes=5)):
        target = returned.street if unit.kind != "street" else returned.category.department
        services.case_dispatch(case=returned, acting_user=dispatcher, unit=target)
        services.case_acknowledge(case=returned, acting_user=_handler(returned))
        services.case_decide_extension(extension=extension, acting_user=dispatcher, approve=True, note="同意")
    returned.refresh_from_db()
    extension.refresh_from_db()
    assert returned.state == CaseState.IN_PROGRESS
    assert extension.status == ExtensionStatus.APPROVED


def test_merged_cases_point_at_a_master_that_counts_them(history):
    merged = Case.objects.filter(state=CaseState.MERGED).select_related("merged_into")
    assert merged.exists()
    for case in merged:
        event = case.events.get(action="merge")
        assert event.data == {"master": case.merged_into.tracking_code, "master_id": case.merged_into_id}
        assert case.merged_into.state not in (CaseState.MERGED, CaseState.REJECTED)
        assert case.merged_into.submitted_at < case.submitted_at
        assert CoReporter.objects.filter(case=case.merged_into, text=case.text).exists()
    assert not CaseAssignment.objects.filter(case__state=CaseState.MERGED).exists()
