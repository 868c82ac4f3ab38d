"""Production mode: a resident's online appeal is answered as soon as it is filed, and
intelligent dispatch runs afterwards in a worker (the `intake.route` outbox message) — once,
however often that message is delivered."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from minsheng.cases import services as case_services
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import Notification, OutboxMessage
from minsheng.core.outbox import outbox_process
from minsheng.dispatch import services as dispatch_services
from minsheng.intake.forms import submission_token_new
from minsheng.intake.services import ROUTE_TOPIC, case_route
from tests.factories import unit

pytestmark = pytest.mark.django_db

GAS = "伊河路26号院3号楼楼道里有很重的燃气味，怀疑漏气了"


@pytest.fixture(autouse=True)
def worker_mode(settings):
    """As in production with Redis: nothing routes in the request; always confident enough to
    auto-dispatch, so a double delivery would show as a second dispatch."""
    settings.MINSHENG_ROUTE_IN_REQUEST = False
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    cache.clear()
    if dispatch_services._holder.engine is not None:  # an empty duplicate index: no "possible repeat"
        from minsheng.dispatch.engine import DuplicateIndex

        dispatch_services._holder.engine.dup_index = DuplicateIndex()
        dispatch_services._holder.last_case_id = 0
    yield
    cache.clear()


def events(case: Case, action: str) -> int:
    return CaseEvent.objects.filter(case=case, action=action).count()


def test_the_api_answers_before_dispatch_and_the_worker_routes_it_once(users):
    response = Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院", "phone": "13912345678"},
                             content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(tracking_code=body["tracking_code"])
    assert body["state"] == "submitted" and body["dispatch"]["pending"] is True
    assert body["dispatch"]["auto_dispatched"] is False and body["dispatch"]["assigned_unit"] is None
    # Filed with its submit event and the routing request, nothing else yet.
    assert (events(case, "submit"), events(case, "suggest"), events(case, "dispatch")) == (1, 0, 0)
    assert OutboxMessage.objects.filter(topic=ROUTE_TOPIC, payload__case_id=case.pk, processed_at__isnull=True).count() == 1

    outbox_process()  # the worker: routes, and delivers what routing enqueued
    outbox_process()
    case.refresh_from_db()
    assert case.state == "dispatched" and case.main_unit.code == "GAS"
    assert (events(case, "submit"), events(case, "suggest"), events(case, "dispatch")) == (1, 1, 1)
    assert Notification.objects.filter(unit=case.main_unit, text__contains=case.tracking_code).count() == 1
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()

    followed = Client().get(f"/api/v1/public/appeals/{case.tracking_code}?phone_last4=5678")
    assert followed.status_code == 200 and followed.json()["state"] == "dispatched"


def test_the_h5_form_answers_with_the_tracking_code_and_the_worker_routes_it_once(users):
    client = Client()
    response = client.post("/appeal/new/", {"text": GAS, "address": "伊河路26号院", "category": "", "reporter_name": "李四",
                                            "reporter_phone": "13912345678", "token": submission_token_new()})

    assert response.status_code == 302 and "/done/" in response["Location"]
    case = Case.objects.get()
    assert case.state == "submitted" and not case.dispatch_meta
    done = client.get(response["Location"])
    assert case.tracking_code in done.content.decode()

    outbox_process()
    outbox_process()
    case.refresh_from_db()
    assert case.state == "dispatched"
    assert (events(case, "suggest"), events(case, "dispatch")) == (1, 1)


def test_a_redelivered_routing_message_dispatches_nothing_twice(users):
    case = Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院"}, content_type="application/json")
    case = Case.objects.get(tracking_code=case.json()["tracking_code"])
    outbox_process()
    outbox_process()
    dispatched_version = Case.objects.get(pk=case.pk).version

    # As after a crash between the handler's work and the "processed" mark on another store,
    # or an operator re-queuing it: the message comes round again.
    OutboxMessage.objects.filter(topic=ROUTE_TOPIC).update(processed_at=None, claimed_until=None)
    assert outbox_process() >= 1
    outbox_process()
    assert case_route(case_id=case.pk) is False

    case.refresh_from_db()
    assert case.version == dispatched_version
    assert (events(case, "suggest"), events(case, "dispatch")) == (1, 1)
    assert Notification.objects.filter(text__contains=case.tracking_code).count() == 1


def test_a_dispatcher_who_gets_there_first_is_not_overridden(users):
    response = Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院"}, content_type="application/json")
    case = Case.objects.get(tracking_code=response.json()["tracking_code"])
    case_services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:LSZ"), reason="值班派单")

    outbox_process()
    outbox_process()
    case.refresh_from_db()
    assert case.main_unit.code == "LSZ"
    assert (events(case, "suggest"), events(case, "dispatch")) == (0, 1)
    assert OutboxMessage.objects.get(topic=ROUTE_TOPIC).processed_at is not None


def test_a_failing_engine_leaves_the_message_to_be_retried_and_the_appeal_waiting(users, monkeypatch):
    response = Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院"}, content_type="application/json")
    case = Case.objects.get(tracking_code=response.json()["tracking_code"])

    def broken(**kwargs):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(dispatch_services, "intake_process", broken)
    outbox_process()
    message = OutboxMessage.objects.get(topic=ROUTE_TOPIC)
    assert message.processed_at is None and message.attempts == 1 and "model file unreadable" in message.last_error
    case.refresh_from_db()
    assert case.state == "submitted" and events(case, "suggest") == 0

    monkeypatch.undo()
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=message.created_at)  # the backoff has passed
    outbox_process()
    case.refresh_from_db()
    assert case.state == "dispatched" and (events(case, "suggest"), events(case, "dispatch")) == (1, 1)


def test_in_request_mode_the_answer_already_carries_the_dispatch(users, settings):
    settings.MINSHENG_ROUTE_IN_REQUEST = True
    response = Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院"}, content_type="application/json")

    body = response.json()
    assert body["dispatch"]["pending"] is False and body["state"] == "dispatched" and body["dispatch"]["auto_dispatched"] is True
    case = Case.objects.get(tracking_code=body["tracking_code"])
    outbox_process()  # the routing message finds the work done
    outbox_process()
    assert (events(case, "suggest"), events(case, "dispatch")) == (1, 1)


def test_a_backlog_is_routed_in_one_batch_each_case_once_and_a_repeat_is_seen(users):
    """The worker claims a backlog together and runs the engine once over it; each case is
    still routed once, in id order, so the second report of the same leak in the same batch
    is held as a possible repeat of the first instead of being dispatched a second time."""
    texts = [GAS, GAS + "，请快来", "计划路菜市场门口垃圾三天没人清运，气味很大", "碧沙岗公园北门路灯坏了好几天，晚上很黑"]
    codes = [
        Client().post("/api/v1/public/appeals", {"text": text, "address": "伊河路26号院" if "燃气" in text else ""},
                      content_type="application/json").json()["tracking_code"]
        for text in texts
    ]
    cases = [Case.objects.get(tracking_code=code) for code in codes]
    pending_routes = OutboxMessage.objects.filter(topic=ROUTE_TOPIC, processed_at__isnull=True)
    assert pending_routes.count() == 4

    assert outbox_process() >= 4 + 4  # the 4 submit messages and the 4 routing messages, one pass
    outbox_process()
    assert not pending_routes.exists()
    for case in cases:
        case.refresh_from_db()
        assert (events(case, "submit"), events(case, "suggest")) == (1, 1)
    first, repeat = cases[0], cases[1]
    assert first.state == "dispatched" and first.main_unit.code == "GAS"
    assert repeat.main_unit_id is None and repeat.dispatch_meta["duplicates"][0]["case_id"] == first.pk

    # Redelivered all together (an operator re-queuing them): nothing is routed a second time.
    before = [(events(case, "suggest"), events(case, "dispatch"), Case.objects.get(pk=case.pk).version) for case in cases]
    OutboxMessage.objects.filter(topic=ROUTE_TOPIC).update(processed_at=None, claimed_until=None)
    assert outbox_process() == 4
    assert [(events(case, "suggest"), events(case, "dispatch"), Case.objects.get(pk=case.pk).version) for case in cases] == before
    assert Notification.objects.filter(text__contains=first.tracking_code).count() == 1


def test_suggestions_recorded_for_a_batch_are_written_as_one_by_one(users, settings):
    """The batch writes the rows `case_record_suggestion` writes for one case: the same case
    fields, suggest event, outbox message and audit entry (only ids and times differ)."""
    from minsheng.core.models import AuditEntry
    from minsheng.core.services import audit_verify_chain

    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01  # every case left to a dispatcher: the batch's own writer
    text = "碧沙岗公园北门的路灯坏了好几天，晚上很黑"

    def filed() -> Case:
        code = Client().post("/api/v1/public/appeals", {"text": text, "address": "碧沙岗公园北门"},
                             content_type="application/json").json()["tracking_code"]
        return Case.objects.get(tracking_code=code)

    def written(case: Case) -> dict:
        case.refresh_from_db()
        event = CaseEvent.objects.get(case=case, action="suggest")
        message = OutboxMessage.objects.get(topic="case.suggest", payload__case_id=case.pk)
        entry = AuditEntry.objects.get(action="case.suggest", target=f"case:{case.tracking_code}")
        fields = {name: getattr(event, name) for name in (
            "from_state", "to_state", "actor_id", "actor_kind", "actor_unit_id", "unit_id", "reason", "data", "is_public",
            "episode_at", "episode_unit_id", "due_at", "first_in_episode", "responded", "outcome", "resolved")}
        meta = {k: v for k, v in case.dispatch_meta.items() if k != "duplicates"}
        return {
            "event": fields, "case": (case.state, case.version, case.category_id, case.urgency, case.street_id, case.community_id, meta),
            "message": {**message.payload, "case_id": "*", "event_id": message.payload["event_id"] == event.pk, "tracking_code": "*"},
            "audit": (entry.actor_id, entry.actor_name, {**entry.detail, "event_id": entry.detail["event_id"] == event.pk}),
        }

    alone = filed()
    assert case_route(case_id=alone.pk) is True  # one by one, through the engine's transition
    outbox_process()  # its routing message finds the work done
    dispatch_services.engine_reset()  # the batch's cases meet no earlier one in the duplicate index
    batch = [filed(), filed()]
    outbox_process()

    one_by_one = written(alone)
    assert CaseEvent.objects.filter(case=alone, action="suggest").count() == 1
    for case in batch:
        got = written(case)
        assert got["case"][:6] == one_by_one["case"][:6], (got["case"], one_by_one["case"])
        assert got["case"][6] == one_by_one["case"][6], [(k, got["case"][6].get(k), v) for k, v in one_by_one["case"][6].items() if got["case"][6].get(k) != v]
        assert got == one_by_one
    assert audit_verify_chain() == []


def test_a_filing_appends_its_audit_entry_last(users):
    """Every filing takes the audit chain's lock until it commits; it takes it after its other
    writes (the routing request included), so the filings hold it as briefly as they can."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as api:
        Client().post("/api/v1/public/appeals", {"text": GAS, "address": "伊河路26号院"}, content_type="application/json")
    with CaptureQueriesContext(connection) as form:
        Client().post("/appeal/new/", {"text": GAS, "address": "伊河路26号院", "category": "", "reporter_name": "李四",
                                       "reporter_phone": "13912345678", "token": submission_token_new()})
    for queries in (api, form):
        sql = [q["sql"] for q in queries.captured_queries]
        audit = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "core_auditentry"'))
        route = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "core_outboxmessage"') and ROUTE_TOPIC in s)
        # The filing's writes (the form's session is saved afterwards, in a transaction of its own).
        writes = [i for i, s in enumerate(sql) if s.startswith(("INSERT", "UPDATE")) and "django_session" not in s]
        assert route < audit and writes[-1] == audit
        if connection.vendor == "postgresql":
            lock = next(i for i, s in enumerate(sql) if "pg_advisory_xact_lock" in s)
            assert lock > route
