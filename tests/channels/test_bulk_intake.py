"""The batched intake used by the import writes what the one-case path writes: case_submit +
intake_process (suggestion, and automatic dispatch when the engine is sure)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from minsheng.cases import services as case_services
from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case
from minsheng.cases.services import BulkCase, cases_intake_many
from minsheng.channels import services
from minsheng.core.models import OutboxMessage
from minsheng.dispatch import services as dispatch_services
from tests.factories import unit

pytestmark = pytest.mark.django_db

GAS = "伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了"


def shape(case: Case) -> dict:
    """What must agree between the two paths (ids, codes and times aside)."""
    case.refresh_from_db()
    return {
        "state": case.state, "version": case.version, "channel": case.channel, "category": case.category_id, "urgency": case.urgency,
        "street": case.street_id, "community": case.community_id, "main_unit": case.main_unit_id,
        "deadlines": bool(case.acknowledge_due_at and case.contact_due_at and case.resolve_due_at),
        "meta_unit": case.dispatch_meta.get("unit"), "meta_sub": case.dispatch_meta["subcategory"][0][0],
        "events": [(e.action, e.from_state, e.to_state, e.actor_kind, e.unit_id, e.is_public) for e in case.events.order_by("at", "id")],
        "event_data": {e.action: sorted(e.data) for e in case.events.all() if e.action != "submit"},
        "assignments": list(case.assignments.values_list("unit_id", "role", "active")),
        "outbox": sorted(m.topic for m in OutboxMessage.objects.filter(payload__case_id=case.pk)),
    }


def test_bulk_intake_matches_the_one_case_path(users, engine, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    one = case_services.case_submit(text=GAS, channel="hotline", address="伊河路26号院", reporter_phone="13800000001")
    dispatch_services.intake_process(case=one)
    # A different resident, a month later, so the two are not duplicates of each other.
    later = timezone.now() + timezone.timedelta(days=40)
    outcome = dispatch_services.intake_suggest_many(items=[{"text": GAS, "address": "伊河路26号院", "at": later}])[0]
    Case.objects.filter(pk=one.pk).update(state="closed")
    dispatch_services.engine_reset()
    assert outcome.auto_dispatch and outcome.unit.key == "dept:GAS"
    bulk = cases_intake_many(items=[BulkCase(
        text=GAS, channel="hotline", idempotency_key="bulk-1", address="伊河路26号院", reporter_phone="13800000002",
        dispatch_meta=outcome.meta, category=outcome.category, urgency=outcome.urgency, street=outcome.street, community=outcome.community,
        auto_dispatch_unit=outcome.unit, auto_dispatch_meta={"auto": True, "model_version": outcome.meta["model_version"], "confidence": 1.0},
    )])[0]
    Case.objects.filter(pk=one.pk).update(state="dispatched")
    assert shape(bulk) == shape(one)


def test_bulk_intake_skips_keys_already_taken(users):
    item = BulkCase(text="碧沙岗公园南门人行道地砖松动", channel="import", idempotency_key="same-key")
    assert len(cases_intake_many(items=[item, item])) == 1
    assert cases_intake_many(items=[item]) == []
    assert Case.objects.count() == 1


def test_bulk_intake_validates_every_item(users):
    with pytest.raises(InvalidInput):
        cases_intake_many(items=[BulkCase(text="短", channel="import", idempotency_key="k1")])
    with pytest.raises(InvalidInput):
        cases_intake_many(items=[BulkCase(text="碧沙岗公园南门人行道地砖松动", channel="pigeon", idempotency_key="k2")])
    assert not Case.objects.exists()


def test_bulk_tracking_codes_are_unique(users):
    items = [BulkCase(text=f"碧沙岗公园南门人行道地砖松动（第{i}块）", channel="import", idempotency_key=f"k{i}") for i in range(300)]
    cases = cases_intake_many(items=items)
    assert len({c.tracking_code for c in cases}) == 300


def test_the_case_page_can_link_to_the_source_record(users, monkeypatch):
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", lambda case: None)
    forum = services.forum_record(acting_user=users["community"], kind="community", title="居民议事会", held_on=timezone.localdate(),
                                  place="会议室", host_unit=unit("community:JSL03"), issues=[{"text": "菜市场门口占道经营严重"}])
    case = forum.issues.get().case
    request = RequestFactory().get("/")
    template = Template("{% load channels %}<dl>{% channel_source case %}</dl>")
    request.user = users["community"]
    html = template.render(Context({"case": case, "request": request}))
    assert "来源记录" in html and f"/desk/channels/forums/{forum.pk}/" in html and "居民议事会" in html
    request.user = users["other_community"]
    html = template.render(Context({"case": case, "request": request}))
    assert "居民议事会" in html and "href" not in html  # named, but not linked for someone who cannot see it
    plain = case_services.case_submit(text="碧沙岗公园南门人行道地砖松动", channel="web")
    assert "来源记录" not in template.render(Context({"case": plain, "request": request}))


def test_bulk_intake_encrypts_personal_data_as_a_save_would(users):
    """The tuple path encrypts and indexes the personal fields itself: what it stores reads
    back, is found by phone, and is ciphertext in the table."""
    from django.db import connection

    from minsheng.core import crypto

    written = cases_intake_many(items=[BulkCase(
        text="碧沙岗公园南门人行道地砖松动", channel="hotline", idempotency_key="pd-1", address=" 伊河路26号院 ",
        reporter_name="王女士", reporter_phone="138-0000-0003", reporter_id_number="11010519491231002X",
    )], plain=True)
    case = Case.objects.get(pk=written[0].pk)
    assert (case.address, case.reporter_name, case.reporter_phone, case.reporter_id_number) == (
        "伊河路26号院", "王女士", "138-0000-0003", "11010519491231002X")
    assert case.reporter_phone_last4 == "0003" and written[0].tracking_code == case.tracking_code
    assert list(Case.objects.filter(reporter_phone="13800000003")) == [case]
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, reporter_name, reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()
    assert all(crypto.is_encrypted(value) for value in stored) and "王女士" not in stored[1]


def test_bulk_intake_writes_events_with_the_model_defaults(users):
    """Event columns the bulk path does not name (episode facts) take the model's defaults."""
    unit_ = unit("dept:GAS")
    [written] = cases_intake_many(items=[BulkCase(
        text="伊河路26号院3号楼楼道里燃气味很重", channel="hotline", idempotency_key="ev-1",
        dispatch_meta={"model_version": "m1", "unit": "dept:GAS", "unit_confidence": 0.97}, auto_dispatch_unit=unit_,
    )], plain=True)
    events = list(Case.objects.get(pk=written.pk).events.order_by("id"))
    assert [e.action for e in events] == ["submit", "suggest", "dispatch"] and written.main_unit_id == unit_.pk
    assert all(e.episode_at is None and e.due_at is None and e.first_in_episode is None for e in events)
    payloads = {m.topic: m.payload for m in OutboxMessage.objects.filter(payload__case_id=written.pk)}
    assert payloads["case.dispatch"]["event_id"] == events[2].pk and payloads["case.suggest"]["event_id"] == events[1].pk
    assert "event_id" not in payloads["case.submit"]
