import datetime as dt

import pytest
from django.utils import timezone

from minsheng.cases.choices import CaseState
from minsheng.core import outbox
from minsheng.core.models import AuditEntry, Notification, OutboxMessage
from minsheng.core.services import audit_record, audit_verify_chain, outbox_enqueue

pytestmark = pytest.mark.django_db


def test_a_dispatch_notifies_the_handling_unit_once(cases):
    case = cases.make(CaseState.DISPATCHED)
    outbox.outbox_process()
    outbox.outbox_process()
    notes = Notification.objects.filter(unit=case.main_unit)
    assert notes.count() == 1 and case.tracking_code in notes.get().text


def test_a_failing_handler_is_retried_later_and_the_rest_still_run(db):
    calls = []

    @outbox.handles("test.flaky")
    def flaky(message):
        calls.append(message.pk)
        if len(calls) == 1:
            raise RuntimeError("receiver down")

    try:
        bad = outbox_enqueue(topic="test.flaky", payload={})
        good = outbox_enqueue(topic="test.other", payload={})
        outbox.outbox_process()
        bad.refresh_from_db()
        good.refresh_from_db()
        assert good.processed_at is not None
        assert bad.processed_at is None and bad.attempts == 1 and "receiver down" in bad.last_error
        assert outbox.outbox_process() == 0  # backing off
        outbox.outbox_process(now=timezone.now() + dt.timedelta(hours=1))
        bad.refresh_from_db()
        assert bad.processed_at is not None and calls == [bad.pk, bad.pk]
    finally:
        outbox._handlers[:] = [h for h in outbox._handlers if h[0] != "test.flaky"]


def test_a_claimed_message_is_not_run_by_a_second_worker(db):
    message = outbox_enqueue(topic="test.none", payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=timezone.now() + dt.timedelta(minutes=1))
    assert outbox.outbox_process() == 0


def test_the_audit_chain_detects_an_edited_entry(users):
    for i in range(3):
        audit_record(action="export", actor=users["dispatcher"], target=f"queue:{i}")
    assert audit_verify_chain() == []
    middle = AuditEntry.objects.order_by("id")[1]
    AuditEntry.objects.filter(pk=middle.pk).update(target="queue:forged")
    assert audit_verify_chain() == [middle.pk]


def test_the_audit_chain_detects_a_deleted_entry(users):
    for i in range(3):
        audit_record(action="login", actor=users["operator"])
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    AuditEntry.objects.filter(pk=ids[1]).delete()
    assert audit_verify_chain() == [ids[2]]
