"""每月一题 topics: adoption by leaders and admins only, with its cases linked; edits, status
changes and notes by the right people; links by hand; the live status of the cases; bad
input refused with nothing lost; the pages and their ledgers."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from minsheng.analytics import services
from minsheng.analytics.models import Topic, TopicCase, TopicNote
from minsheng.analytics.selectors import topics as topic_selectors
from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Case, Category
from minsheng.core.models import AuditEntry, Unit
from tests.factories import make_user, unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    """The messages are checked in Chinese, whatever an earlier request left active."""
    with translation.override("zh-hans"):
        yield

SUB = "CGM.HJWS"


@pytest.fixture
def problem(cases):
    """Four appeals about 环境卫生 at JSL03 this month (one closed, one overdue), one at
    another community, one of another subcategory."""
    made = [cases.make("dispatched"), cases.make("in_progress"), cases.make("closed"), cases.make("submitted")]
    Case.objects.filter(pk=made[0].pk).update(resolve_due_at=timezone.now() - dt.timedelta(hours=1))
    cases.make("submitted", community_key="community:JSL01")
    cases.make("submitted", subcategory="ZF.WYFW")
    return made


def adopt(user, **kw):
    args = dict(acting_user=user, month=timezone.localdate(), category=Category.objects.get(code=SUB), street=unit("street:JSL"),
                community=unit("community:JSL03"), owner_unit=unit("street:JSL"), title="计划路垃圾清运",
                plan="街道牵头，城管配合，两周内落实每日清运。")
    args.update(kw)
    return services.topic_adopt(**args)


# ---------------------------------------------------------------- adoption


def test_leader_adopts_a_problem_with_its_cases(users, problem):
    topic = adopt(users["leader"])
    linked = set(TopicCase.objects.filter(topic=topic).values_list("case_id", flat=True))
    assert linked == {c.pk for c in problem}
    assert topic.status == "adopted" and topic.proposed_count == 4 and topic.place == unit("community:JSL03")
    entry = AuditEntry.objects.filter(action="topic.adopt").get()
    assert entry.actor == users["leader"] and entry.detail["cases"] == 4 and entry.target == f"topic:{topic.pk}"
    status = topic_selectors.topic_cases(topic, user=users["leader"])
    assert (status.total, status.open, status.closed, status.overdue) == (4, 3, 1, 1)
    # The problem shows as adopted among the month's proposals.
    proposals = topic_selectors.proposals(user=users["leader"], month=timezone.localdate())
    assert any(p.topic == topic for p in proposals)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "street", "community", "dept"])
def test_other_roles_may_not_adopt(users, problem, role):
    with pytest.raises(ActionNotAllowed):
        adopt(users[role])
    assert not Topic.objects.exists() and not AuditEntry.objects.filter(action="topic.adopt").exists()


def test_admin_adopts_and_a_street_leader_only_in_its_street(users, problem):
    assert adopt(users["admin"]).adopted_by == users["admin"]
    lsz_leader = make_user("leader-LSZ", "leader", "street:LSZ")
    with pytest.raises(ActionNotAllowed):
        adopt(lsz_leader, category=Category.objects.get(code="ZF.WYFW"))
    jsl_leader = make_user("leader-JSL", "leader", "street:JSL")
    assert adopt(jsl_leader, category=Category.objects.get(code="ZF.WYFW")).proposed_count == 1


@pytest.mark.parametrize("change, message", [
    ({"title": "  "}, "题目"),
    ({"plan": ""}, "跟进计划"),
    ({"plan": "x" * 5001}, "过长"),
    ({"title": "bad\x00title"}, "无法保存"),
    ({"community": "community:LSZ01"}, "社区不属于"),
    ({"street": "community:JSL03"}, "街道"),
    ({"owner_unit": "district"}, "责任单位"),
    ({"month": "future"}, "未来"),
    ({"category": None}, "类别"),
])
def test_adoption_refuses_bad_input(users, problem, change, message):
    kw = dict(change)
    for key in ("community", "street", "owner_unit"):
        if key in kw:
            kw[key] = Unit.objects.get(kind="district") if kw[key] == "district" else unit(kw[key])
    if kw.get("month") == "future":
        kw["month"] = timezone.localdate() + dt.timedelta(days=40)
    with pytest.raises(InvalidInput) as info:
        adopt(users["leader"], **kw)
    assert message in info.value.message
    assert not Topic.objects.exists() and not TopicCase.objects.exists()


def test_the_same_problem_is_adopted_once_a_month(users, problem):
    adopt(users["leader"])
    with pytest.raises(InvalidInput):
        adopt(users["admin"], title="另一个题目")
    assert Topic.objects.count() == 1


# ---------------------------------------------------------------- status, edits, notes


def test_status_moves_forward_with_audit(users, problem):
    topic = adopt(users["leader"])
    with pytest.raises(InvalidInput):
        services.topic_set_status(acting_user=users["leader"], topic=topic, status="nonsense")
    topic = services.topic_set_status(acting_user=users["leader"], topic=topic, status="in_progress")
    with pytest.raises(InvalidInput):
        services.topic_set_status(acting_user=users["leader"], topic=topic, status="adopted")  # no way back to adopted
    with pytest.raises(InvalidInput):
        services.topic_set_status(acting_user=users["leader"], topic=topic, status="done")  # done needs a note
    topic = services.topic_set_status(acting_user=users["admin"], topic=topic, status="done", note="已建立每日清运台账")
    assert topic.status == "done" and topic.done_at is not None
    assert [(e.detail["from"], e.detail["to"]) for e in AuditEntry.objects.filter(action="topic.status").order_by("id")] == [
        ("adopted", "in_progress"), ("in_progress", "done")]
    topic = services.topic_set_status(acting_user=users["leader"], topic=topic, status="in_progress", note="问题反弹")
    assert topic.done_at is None
    assert TopicNote.objects.filter(topic=topic, kind="status").count() == 4  # adoption + three changes


@pytest.mark.parametrize("role", ["operator", "dispatcher", "street", "dept"])
def test_only_leaders_and_admins_change_status_and_edit(users, problem, role):
    topic = adopt(users["leader"])
    with pytest.raises(ActionNotAllowed):
        services.topic_set_status(acting_user=users[role], topic=topic, status="in_progress")
    with pytest.raises(ActionNotAllowed):
        services.topic_update(acting_user=users[role], topic=topic, title="改", plan="改", owner_unit=unit("dept:CGJ"))
    topic.refresh_from_db()
    assert topic.status == "adopted" and topic.title == "计划路垃圾清运"


def test_edit_changes_owner_and_is_audited(users, problem):
    topic = adopt(users["leader"])
    topic = services.topic_update(acting_user=users["leader"], topic=topic, title=topic.title, plan=topic.plan, owner_unit=unit("dept:CGJ"))
    assert topic.owner_unit == unit("dept:CGJ")
    assert AuditEntry.objects.get(action="topic.edit").detail["fields"] == ["owner_unit"]
    with pytest.raises(InvalidInput):
        services.topic_update(acting_user=users["leader"], topic=topic, title="", plan=topic.plan, owner_unit=unit("dept:CGJ"))


def test_owner_unit_handlers_add_notes_others_do_not(users, problem):
    topic = adopt(users["leader"])  # owned by the JSL street office
    note = services.topic_add_note(acting_user=users["street"], topic=topic, text="已与环卫公司约定每日两次清运")
    assert note.author_unit == unit("street:JSL")
    services.topic_add_note(acting_user=users["leader"], topic=topic, text="请街道每周报送进展")
    for role in ("community", "other_street", "dept", "operator", "dispatcher"):
        with pytest.raises(ActionNotAllowed):
            services.topic_add_note(acting_user=users[role], topic=topic, text="进展")
    with pytest.raises(InvalidInput):
        services.topic_add_note(acting_user=users["street"], topic=topic, text="   ")
    assert TopicNote.objects.filter(topic=topic, kind="note").count() == 2


def test_visibility_by_role(users, problem):
    topic = adopt(users["leader"], owner_unit=unit("dept:CGJ"))
    seen = {role: Topic.objects.visible_to(user).filter(pk=topic.pk).exists() for role, user in users.items()}
    assert seen == {"admin": True, "operator": True, "dispatcher": True, "leader": True, "street": True, "community": True,
                    "other_street": False, "other_community": False, "dept": True, "other_dept": False}


# ---------------------------------------------------------------- links


def test_link_unlink_and_refresh(users, problem, cases):
    topic = adopt(users["leader"])
    other = Case.objects.get(community=unit("community:JSL01"))
    services.topic_link_case(acting_user=users["leader"], topic=topic, tracking_code=other.tracking_code.lower())
    with pytest.raises(InvalidInput):
        services.topic_link_case(acting_user=users["leader"], topic=topic, tracking_code=other.tracking_code)  # twice
    with pytest.raises(InvalidInput):
        services.topic_link_case(acting_user=users["leader"], topic=topic, tracking_code="NOSUCHCODE")
    with pytest.raises(ActionNotAllowed):
        services.topic_link_case(acting_user=users["street"], topic=topic, tracking_code=other.tracking_code)
    assert topic_selectors.topic_cases(topic, user=users["leader"]).total == 5
    services.topic_unlink_case(acting_user=users["leader"], topic=topic, case_id=problem[3].pk)
    with pytest.raises(InvalidInput):
        services.topic_unlink_case(acting_user=users["leader"], topic=topic, case_id=problem[3].pk)
    newer = cases.make("submitted")  # the problem again, after adoption
    assert services.topic_refresh_links(acting_user=users["leader"], topic=topic) == 1  # not the unlinked one
    linked = set(Case.objects.filter(topic_links__topic=topic, topic_links__unlinked_at__isnull=True).values_list("pk", flat=True))
    assert newer.pk in linked and problem[3].pk not in linked and other.pk in linked


def test_topic_cases_listed_within_the_viewers_scope(users, problem):
    topic = adopt(users["leader"])
    services.topic_link_case(acting_user=users["leader"], topic=topic,
                             tracking_code=Case.objects.get(category__code="ZF.WYFW").tracking_code)
    community_view = topic_selectors.topic_cases(topic, user=users["community"])
    assert community_view.total == 5 and community_view.hidden == 0
    street_view = topic_selectors.topic_cases(topic, user=users["street"])
    assert street_view.visible.count() == 5


# ---------------------------------------------------------------- pages


def _client(client, user):
    client.force_login(user)
    return client


def test_topic_pages_per_role(client, users, problem):
    leader = _client(client, users["leader"])
    month = timezone.localdate().strftime("%Y-%m")
    response = leader.post(reverse("analytics:topic_adopt"), {
        "month": month, "category": Category.objects.get(code=SUB).pk, "street": unit("street:JSL").pk,
        "community": unit("community:JSL03").pk, "owner_unit": unit("street:JSL").pk, "title": "计划路垃圾清运", "plan": "每日清运",
    })
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("analytics:topic", args=[topic.pk])
    page = leader.get(reverse("analytics:topic", args=[topic.pk]))
    assert page.status_code == 200 and "计划路垃圾清运" in page.content.decode()
    listing = leader.get(reverse("analytics:topics"))
    assert "计划路垃圾清运" in listing.content.decode()
    # Bad input keeps what was typed and says why.
    bad = leader.post(reverse("analytics:topic_adopt"), {
        "month": month, "category": Category.objects.get(code=SUB).pk, "street": unit("street:JSL").pk,
        "owner_unit": unit("street:JSL").pk, "title": "", "plan": "保留的计划文本",
    })
    assert bad.status_code == 400 and "保留的计划文本" in bad.content.decode()
    leader.logout()
    # Out of scope: 404; in scope without rights: no adoption (403), notes only for the owner.
    _client(client, users["other_street"])
    assert client.get(reverse("analytics:topic", args=[topic.pk])).status_code == 404
    client.logout()
    _client(client, users["dispatcher"])
    assert client.get(reverse("analytics:topic", args=[topic.pk])).status_code == 200
    assert client.post(reverse("analytics:topic_status", args=[topic.pk]), {"status": "in_progress"}).status_code == 403
    assert client.post(reverse("analytics:topic_edit", args=[topic.pk]), {}).status_code == 403  # refused before the input is read
    assert client.post(reverse("analytics:topic_note", args=[topic.pk]), {"text": "x"}).status_code == 403
    client.logout()
    _client(client, users["street"])
    response = client.post(reverse("analytics:topic_note", args=[topic.pk]), {"text": "已落实"})
    assert response.status_code == 302 and TopicNote.objects.filter(topic=topic, kind="note", text="已落实").exists()
    empty = client.post(reverse("analytics:topic_note", args=[topic.pk]), {"text": "  "})
    assert empty.status_code == 400 and "请填写" in empty.content.decode()


def test_topic_ledgers(client, users, problem):
    topic = adopt(users["leader"])
    _client(client, users["leader"])
    for url in (reverse("analytics:topics_export"), reverse("analytics:topic_cases_export", args=[topic.pk])):
        response = client.get(url)
        assert response.status_code == 200
        ws = load_workbook(io.BytesIO(response.content)).active
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold
        assert ws.max_row >= 2
    ws = load_workbook(io.BytesIO(client.get(reverse("analytics:topic_cases_export", args=[topic.pk])).content)).active
    assert ws.max_row == 5  # header + four cases
    dates = [c for c in ws[2] if isinstance(c.value, dt.datetime)]
    assert dates and all(c.number_format.startswith("yyyy") for c in dates)
    proposals = load_workbook(io.BytesIO(client.get(reverse("analytics:topic_proposals_export"),
                                                    {"month": timezone.localdate().strftime("%Y-%m")}).content)).active
    assert [c.value for c in proposals[2]][3:10] == ["环境卫生", unit("street:JSL").name, unit("community:JSL03").name, 4, 0, 4, "计划路垃圾清运"]
    assert proposals["A2"].number_format == "yyyy-mm"
    assert AuditEntry.objects.filter(action="export").count() == 4
