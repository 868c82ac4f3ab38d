"""Dispatch inside the application: suggestions stored on new cases, auto-dispatch above
the district's threshold, duplicates among open cases, dispatcher decisions as training."""

import pytest

from minsheng.cases import services as case_services
from minsheng.cases.models import Case, Category
from minsheng.dispatch import services
from tests.factories import unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_index():
    """Each test starts with an empty duplicate index (the model itself stays cached)."""
    if services._holder.engine is not None:
        from minsheng.dispatch.engine import DuplicateIndex

        services._holder.engine.dup_index = DuplicateIndex()
        services._holder.last_case_id = 0
    yield


def submit(text, address=""):
    return case_services.case_submit(text=text, channel="web", address=address)


def test_a_new_case_gets_suggestions_and_a_system_event(settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01  # never
    case = submit("伊河路26号院3号楼楼道里有很重的燃气味，怀疑漏气了")
    outcome = services.intake_process(case=case)
    case.refresh_from_db()
    assert outcome.reason == "low_confidence" and case.state == "submitted"
    meta = case.dispatch_meta
    assert meta["subcategory"][0][0] == "GY.RQ"
    assert meta["unit"] == "dept:GAS" and meta["model_version"]
    assert case.category.code == "GY.RQ" and case.community.code == "LSZ03"
    event = case.events.get(action="suggest")
    assert event.actor_kind == "system" and event.data["unit"] == "dept:GAS"


def test_a_confident_suggestion_is_dispatched_automatically(settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.5
    case = submit("伊河路26号院3号楼楼道里有很重的燃气味，怀疑漏气了")
    outcome = services.intake_process(case=case)
    case.refresh_from_db()
    assert outcome.auto_dispatched and case.state == "dispatched"
    assert case.main_unit == unit("dept:GAS")
    event = case.events.get(action="dispatch")
    assert event.actor_kind == "system" and event.data["auto"] is True and event.data["model_version"]
    assert event.data["confidence"] >= 0.5


def test_a_territorial_case_without_a_place_waits_for_the_dispatcher(settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    case = submit("楼下饭店的油烟天天往我家窗户里灌，呛得没法开窗")
    outcome = services.intake_process(case=case)
    case.refresh_from_db()
    assert case.state == "submitted"
    assert outcome.reason == "location_needed" and case.dispatch_meta["needs_location"] is True


def test_a_repeat_of_an_open_case_is_offered_for_merging_not_dispatched(settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    first = submit("计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", "计划路菜市场")
    services.intake_process(case=first)
    again = submit("计划路菜市场门口的垃圾三天都没人清运了，太臭了", "计划路菜市场")
    outcome = services.intake_process(case=again)
    again.refresh_from_db()
    assert outcome.reason == "possible_duplicate" and again.state == "submitted"
    assert again.dispatch_meta["duplicates"][0]["tracking_code"] == first.tracking_code


def test_cases_submitted_elsewhere_are_found_as_duplicates():
    """A case written by another process (no intake_process here) is picked up by id."""
    first = submit("计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", "计划路菜市场")
    services.dispatch_engine()  # sync
    rows = services.similar_open_cases(text="计划路菜市场门口的垃圾三天都没人清运了", address="计划路菜市场")
    assert [r["tracking_code"] for r in rows] == [first.tracking_code]


def test_routing_a_case_leaves_newer_waiting_cases_to_their_own_routing(settings):
    """A worker routing a backlog must not classify the appeals still waiting behind the one
    it routes (their own routing does it): each appeal goes through the engine once."""
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    first = submit("计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", "计划路菜市场")
    waiting = submit("计划路菜市场门口的垃圾三天都没人清运了，太臭了", "计划路菜市场")
    services.intake_process(case=first)
    index = services._holder.engine.dup_index
    assert first.pk in index and waiting.pk not in index
    outcome = services.intake_process(case=waiting)
    assert waiting.pk in index
    assert outcome.reason == "possible_duplicate" and outcome.duplicates[0]["tracking_code"] == first.tracking_code


def test_closed_cases_are_not_offered_as_duplicates(users):
    first = submit("计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", "计划路菜市场")
    services.dispatch_engine()
    case_services.case_reject(case=first, acting_user=users["dispatcher"], reason="测试")
    services._holder.last_sweep = 0
    assert services.similar_open_cases(text="计划路菜市场门口的垃圾三天都没人清运了", address="计划路菜市场") == []


def test_dispatcher_decisions_become_training_items(users, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
    case = submit("碧沙岗公园北门的人行道砖翘起来好几块，老人差点绊倒")
    services.intake_process(case=case)
    corrected = Category.objects.get(code="CGM.SZSS")
    case_services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("dept:CGJ"), category=corrected)
    items = services.confirmed_items()
    assert {"text": case.text, "subcategory": "CGM.SZSS", "urgency": "normal", "source": "confirmed"} in items


def test_automatic_dispatches_are_not_training_items(settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    case = submit("伊河路26号院3号楼楼道里有很重的燃气味，怀疑漏气了")
    services.intake_process(case=case)
    assert Case.objects.get(pk=case.pk).state == "dispatched"
    assert all(item["text"] != case.text for item in services.confirmed_items())


def test_scheduled_retraining_waits_for_enough_new_decisions(settings, users):
    from minsheng.dispatch.models import DispatchModel

    settings.MINSHENG_RETRAIN_MIN_NEW = 2
    assert services.dispatch_retrain_if_due() == "not due"
    for text in ("伊河路26号院3号楼楼道里燃气味很重", "碧沙岗公园北门人行道砖翘起来好几块"):
        case = submit(text)
        case_services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("dept:CGJ"),
                                    category=Category.objects.get(code="CGM.SZSS"))
    assert services.retrain_due()
    DispatchModel.objects.create(version="recent", path="/nowhere", active=True)
    assert services.dispatch_retrain_if_due() == "not due"  # a model from today: wait a week


def test_generated_demo_history_is_not_training_data(users):
    case = submit("碧沙岗公园北门人行道砖翘起来好几块")
    case.source_type = "demo"
    case.save(update_fields=["source_type"])
    case_services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("dept:CGJ"),
                                category=Category.objects.get(code="CGM.SZSS"))
    assert all(item["text"] != case.text for item in services.confirmed_items())
