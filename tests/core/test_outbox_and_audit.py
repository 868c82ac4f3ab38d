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


def test_a_chunk_is_delivered_in_one_transaction_with_its_audit_entries_chained(cases):
    """The worker commits a claimed chunk at once; the entries its handlers record join the
    chain in the order they were recorded, after every entry made before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = [cases.make(CaseState.DISPATCHED) for _ in range(3)]

    @outbox.handles("test.audited")
    def audited(message):
        audit_record(action="test.audited", actor_name="system", target=f"message:{message.pk}")

    try:
        sent = [outbox_enqueue(topic="test.audited", payload={}) for _ in range(4)]
        before = AuditEntry.objects.count()
        with CaptureQueriesContext(connection) as queries:
            delivered = outbox.outbox_process()
        marks = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "core_outboxmessage" SET "processed_at"')]
        pending = OutboxMessage.objects.filter(processed_at__isnull=True).count()
        assert delivered >= 4 + len(made) and pending == 0
        assert len(marks) == 1  # the whole chunk marked processed at once, in its one transaction
        targets = list(AuditEntry.objects.filter(action="test.audited").order_by("id").values_list("target", flat=True))
        assert targets == [f"message:{m.pk}" for m in sent]
        assert AuditEntry.objects.count() == before + 4 and audit_verify_chain() == []
        assert Notification.objects.filter(unit__in=[c.main_unit for c in made]).count() == len(made)
    finally:
        outbox._handlers[:] = [h for h in outbox._handlers if h[0] != "test.audited"]


def test_a_failing_message_keeps_nothing_of_its_chunk_but_the_others_are_then_delivered(db):
    """Its writes and its chunk's are rolled back together; the others then go one by one,
    with no write twice and no audit entry of the failed attempt."""
    @outbox.handles("test.half")
    def half(message):
        audit_record(action="test.half", actor_name="system", target=f"message:{message.pk}")
        if message.payload.get("fail"):
            raise RuntimeError("broken payload")

    try:
        first = outbox_enqueue(topic="test.half", payload={})
        broken = outbox_enqueue(topic="test.half", payload={"fail": True})
        last = outbox_enqueue(topic="test.half", payload={})
        assert outbox.outbox_process() == 2
        targets = sorted(AuditEntry.objects.filter(action="test.half").values_list("target", flat=True))
        broken.refresh_from_db()
        assert targets == sorted([f"message:{first.pk}", f"message:{last.pk}"])
        assert broken.processed_at is None and broken.attempts == 1 and "broken payload" in broken.last_error
        assert audit_verify_chain() == []
    finally:
        outbox._handlers[:] = [h for h in outbox._handlers if h[0] != "test.half"]


def test_audit_entries_appended_together_are_written_at_the_end_or_not_at_all(db):
    from django.db import transaction

    from minsheng.core.services import audit_appends_together

    audit_record(action="test.before", actor_name="system")
    with transaction.atomic(), audit_appends_together():
        for i in range(3):
            audit_record(action="test.together", actor_name="system", target=str(i))
        assert not AuditEntry.objects.filter(action="test.together").exists()  # queued, not yet written
    with pytest.raises(RuntimeError), transaction.atomic(), audit_appends_together():
        audit_record(action="test.lost", actor_name="system")
        raise RuntimeError("the transaction fails")
    assert list(AuditEntry.objects.filter(action="test.together").order_by("id").values_list("target", flat=True)) == ["0", "1", "2"]
    assert not AuditEntry.objects.filter(action="test.lost").exists()
    assert audit_verify_chain() == []
    audit_record(action="test.after", actor_name="system")  # the chain goes on from the last of them
    assert audit_verify_chain() == []


def test_handlers_read_what_they_share_once_per_chunk(db):
    from minsheng.core.outbox import chunk_memo

    reads = []

    @outbox.handles("test.memo")
    def memo(message):
        chunk_memo("test.value", lambda: reads.append(message.pk) or "value")

    try:
        for _ in range(5):
            outbox_enqueue(topic="test.memo", payload={})
        assert outbox.outbox_process() == 5
        assert len(reads) == 1
        assert chunk_memo("test.value", lambda: "fresh") == "fresh"  # outside a delivery: every time
    finally:
        outbox._handlers[:] = [h for h in outbox._handlers if h[0] != "test.memo"]
