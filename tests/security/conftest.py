"""The world the security tests attack: one user per role, and for every kind of object a
record in the part of the org tree the handlers belong to (street JSL, community JSL03) and
one of another unit (street LSZ, community LSZ01) whose text and phone carry a marker that
must never appear in an answer to someone who may not see it.

Built once per module inside a transaction that every test's own transaction nests in, and
rolled back at the end (as tests/desk/test_action_matrix.py does)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case
from minsheng.core.models import Notification, User
from tests.factories import CaseMaker, make_role_users, unit

#: The roles of the sweep, in the order the expectation strings list them.
ROLES = ("anon", "operator", "dispatcher", "leader", "admin", "dept", "street", "community")
#: Sweep role → key in tests.factories.ROLE_USERS.
ROLE_USER_KEYS = {"operator": "operator", "dispatcher": "dispatcher", "leader": "leader", "admin": "admin",
                  "dept": "dept", "street": "street", "community": "community"}

#: What another unit's records carry: seeing any of it in a refused answer is a leak.
FOREIGN_TEXT = "外单位秘密诉求ZQXJ河堤路井盖丢失"
FOREIGN_PHONE = "13900007319"
FOREIGN_MARKERS = (FOREIGN_TEXT, FOREIGN_PHONE, "ZQXJ")


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, dict[str, object]] = field(default_factory=dict)  # "own"/"foreign" → name → object
    api_keys: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)

    def user(self, role: str) -> User | None:
        return None if role == "anon" else self.users[ROLE_USER_KEYS[role]]

    def own(self, name: str):
        return self.objects["own"][name]

    def foreign(self, name: str):
        return self.objects["foreign"][name]


def _photo():
    """A small JPEG as the upload checks leave it (core.uploads)."""
    import io

    from PIL import Image

    from minsheng.intake.services import Photo

    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (40, 120, 200)).save(buffer, "JPEG")
    return Photo(content=buffer.getvalue(), content_type="image/jpeg")


def _channel_records(admin: User, community_key: str, tag: str, text: str, phone: str) -> dict[str, object]:
    from minsheng.channels import services as channels

    community = unit(community_key)
    survey = channels.survey_create(acting_user=admin, title=f"停车问题调查{tag}", owner_unit=community)
    section = survey.sections.get()
    question = channels.survey_question_add(survey=survey, section=section, acting_user=admin, kind="text", text=f"停车难在哪里？{tag}")
    channels.survey_publish(survey=survey, acting_user=admin)
    response = channels.survey_response_submit(survey=survey, answers={question.pk: text}, community=community)
    box = channels.boxes_open(acting_user=admin, units=[community])[0]
    note = channels.note_submit_online(box=box, text=text, phone=phone)
    forum = channels.forum_record(acting_user=admin, kind="community", title=f"居民议事会{tag}", held_on=timezone.localdate(),
                                  place="会议室", host_unit=community, issues=[{"text": text}], photos=[_photo()])
    visit, _ = channels.visit_record(acting_user=admin, community=community, visited_at=timezone.now(), place="3号楼",
                                     client_key=f"security-visit-{ord(tag)}", photos=[_photo()])
    return {"survey": survey, "section": section, "question": question, "answer": response.answers.get(), "box": box,
            "note": note, "forum": forum, "visit": visit, "forum_photo": forum.photos.get(), "visit_photo": visit.photos.get()}


def _attachments(case, admin: User) -> dict[str, object]:
    """A resident's public photo on the case and an internal document staff added."""
    from minsheng.cases.services import case_attach

    photo = _photo()
    return {
        "attachment": case_attach(case=case, content=photo.content, filename="photo.jpg", content_type=photo.content_type),
        "internal_attachment": case_attach(case=case, content=b"%PDF-1.4 internal", filename="memo.pdf",
                                           content_type="application/pdf", acting_user=admin, is_public=False),
    }


def _topic(admin: User, street_key: str, community_key: str, title: str):
    """A 每月一题 topic about a community, owned by its street office."""
    from minsheng.analytics.services import topic_adopt
    from minsheng.cases.models import Category

    return topic_adopt(acting_user=admin, month=timezone.localdate(), category=Category.objects.get(code="CGM.HJWS"),
                       street=unit(street_key), community=unit(community_key), owner_unit=unit(street_key),
                       title=f"垃圾清运{title}"[:60], plan="每周巡查两次，月底复盘。")


def _build(users: dict[str, User]) -> World:
    from minsheng.api.services.tokens import token_create
    from minsheng.api.services.webhooks import webhook_endpoint_create
    from minsheng.api.models import WebhookDelivery
    from minsheng.channels import services as channels
    from tests.channels.conftest import good_rows, xlsx_bytes

    world = World(users=users)
    maker = CaseMaker(users)
    admin = users["admin"]
    own_case = maker.make(CaseState.IN_PROGRESS, unit_key="street:JSL", community_key="community:JSL03")
    foreign_case = maker.make(CaseState.IN_PROGRESS, unit_key="street:LSZ", community_key="community:LSZ01",
                              text=FOREIGN_TEXT, phone=FOREIGN_PHONE)
    own = {"case": own_case, **_attachments(own_case, admin),
           **_channel_records(admin, "community:JSL03", "甲", "晚上小区里根本没有车位，车都停到路上", "13812345678")}
    foreign = {"case": foreign_case, **_attachments(foreign_case, admin),
               **_channel_records(admin, "community:LSZ01", "乙", FOREIGN_TEXT, FOREIGN_PHONE)}
    # Import batches are the command centre's, with no unit: "own" and "foreign" are two batches.
    own["batch"] = channels.import_batch_create(acting_user=users["operator"], filename="own.xlsx", content=xlsx_bytes(good_rows(2)))
    foreign["batch"] = channels.import_batch_create(acting_user=admin, filename="foreign.xlsx", content=xlsx_bytes(good_rows(2, start=10)))
    # Webhooks are the administrator's; one endpoint and a delivery to replay.
    endpoint = webhook_endpoint_create(url="http://127.0.0.1:9/hook", event_types=["case.*"], acting_user=admin)
    own["endpoint"] = foreign["endpoint"] = endpoint
    own["delivery"] = foreign["delivery"] = WebhookDelivery.objects.create(
        endpoint=endpoint, outbox_message_id=1, event_type="case.dispatch", payload={"case": None}, next_attempt_at=timezone.now())
    own["topic"] = _topic(admin, "street:JSL", "community:JSL03", "甲")
    foreign["topic"] = _topic(admin, "street:LSZ", "community:LSZ01", FOREIGN_TEXT)
    world.objects = {"own": own, "foreign": foreign}
    # Every community gets its box now, so "open the missing boxes" stays a cheap request.
    from minsheng.channels.selectors import boxes_missing

    channels.boxes_open(acting_user=admin, units=boxes_missing(admin))
    # Each role's own inbox message; the "foreign" one is another street's.
    world.objects["notification"] = {
        role: Notification.objects.create(user=world.user(role), text=f"给{role}的通知", link="/desk/", source_key=f"security-{role}")
        for role in ROLES if role != "anon"
    }
    world.objects["notification"]["foreign"] = Notification.objects.create(
        user=users["other_street"], text=FOREIGN_TEXT, link="/desk/", source_key="security-foreign")
    for role in ROLES:
        client = Client()
        if role != "anon":
            client.force_login(world.user(role))
            world.api_keys[role] = token_create(user=world.user(role), name="security")[1]
        world.clients[role] = client
    # The anonymous browser has proved the own appeal is theirs (as after submitting it).
    session = world.clients["anon"].session
    session["intake_verified_cases"] = session["intake_reporter_cases"] = [own_case.tracking_code]
    session.save()
    return world


@pytest.fixture(scope="session")
def security_media(tmp_path_factory):
    """One media folder for the module-wide world and every test that reads its files."""
    return tmp_path_factory.mktemp("security-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, security_media):
    settings.MEDIA_ROOT = security_media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, security_media):
    from django.test import override_settings

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=security_media):
                built = _build(make_role_users())
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def isolated(call):
    """Run one request and undo whatever it wrote, so every request sees the same world."""
    cache.clear()  # rate-limit counters
    with transaction.atomic():
        try:
            return call()
        finally:
            transaction.set_rollback(True)


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


__all__ = ["ROLES", "FOREIGN_MARKERS", "FOREIGN_TEXT", "FOREIGN_PHONE", "World", "isolated", "refresh", "Case"]
