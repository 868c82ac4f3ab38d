"""Field visits (实地走访): the visit log, findings becoming appeals, drafts sent again after a
lost connection stored once, the ledger per community and month."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases.errors import ActionNotAllowed
from minsheng.cases.models import Case
from minsheng.channels import selectors, services
from minsheng.channels.models import Visit
from tests.factories import unit

from .conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


def visit_data(**over):
    data = {
        "community": unit("community:JSL03").pk, "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "place_kind": "household",
        "place": "绿东村小区3号楼2单元401室", "people_met": "王大爷", "situation": "独居老人，身体尚可",
        "findings": "楼道灯坏了，晚上上下楼看不见\n楼下化粪池满溢，气味很大", "client_key": "k" * 22,
    }
    data.update(over)
    return data


def test_a_visit_with_two_findings_files_two_appeals_of_the_community(login, users, django_capture_on_commit_callbacks, monkeypatch):
    routed = []
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", routed.append)
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(users["community"]).post(reverse("channels:visit_create"), visit_data(photos=photo))
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("channels:visit", args=[visit.pk])
    findings = list(visit.findings.select_related("case"))
    assert [f.text for f in findings] == ["楼道灯坏了，晚上上下楼看不见", "楼下化粪池满溢，气味很大"]
    for finding in findings:
        case = finding.case
        assert (case.channel, case.source_type, case.source_id) == ("visit", "visit_finding", str(finding.pk))
        assert case.community == unit("community:JSL03") and case.address == visit.place
        assert case.created_by == users["community"] and case.attachments.count() == 1
    assert visit.photos.count() == 1 and len(routed) == 2


def test_a_draft_sent_twice_is_stored_once(users):
    kwargs = dict(acting_user=users["community"], community=unit("community:JSL03"), visited_at=timezone.now(), place="5号楼",
                  findings=["楼道堆放杂物，有消防隐患"], client_key="draft-123456")
    first, created = services.visit_record(**kwargs)
    again, created_again = services.visit_record(**kwargs)
    assert created and not created_again and first == again
    assert Visit.objects.count() == 1 and Case.objects.count() == 1


def test_the_offline_sync_gets_json(login, users):
    client = login(users["community"])
    response = client.post(reverse("channels:visit_create"), visit_data(), HTTP_X_MINSHENG_DRAFT="1")
    assert response.status_code == 201 and response.json()["ok"] and response.json()["created"]
    again = client.post(reverse("channels:visit_create"), visit_data(), HTTP_X_MINSHENG_DRAFT="1")
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"] and not again.json()["created"]
    bad = client.post(reverse("channels:visit_create"), visit_data(place="", client_key="other-key-123"), HTTP_X_MINSHENG_DRAFT="1")
    assert bad.status_code == 400 and "place" in bad.json()["errors"]


def test_the_visit_page_carries_the_offline_script_and_a_fresh_draft_key(login, users):
    html = login(users["community"]).get(reverse("channels:visit_create")).content.decode()
    assert "channels/visits.js" in html and 'data-offline-form="visit"' in html and 'name="client_key"' in html
    assert "<script>" not in html


def test_a_visit_cannot_be_dated_in_the_future(login, users):
    future = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = login(users["community"]).post(reverse("channels:visit_create"), visit_data(visited_at=future))
    assert response.status_code == 200 and not Visit.objects.exists()


def test_a_community_worker_visits_only_in_their_community(users):
    with pytest.raises(ActionNotAllowed):
        services.visit_record(acting_user=users["community"], community=unit("community:LSZ01"), visited_at=timezone.now(), place="某户",
                              client_key="abcdefgh1")


def test_the_street_office_records_visits_in_any_of_its_communities(users):
    visit, _ = services.visit_record(acting_user=users["street"], community=unit("community:JSL03"), visited_at=timezone.now(), place="某户",
                                     client_key="abcdefgh2")
    assert visit.community == unit("community:JSL03")


def _visits(users):
    now = timezone.localtime()
    last_month = (now.replace(day=1) - dt.timedelta(days=3))
    for key, community, when in (("a" * 10, "community:JSL03", now), ("b" * 10, "community:JSL03", last_month),
                                 ("c" * 10, "community:LSZ01", now)):
        services.visit_record(acting_user=users["admin"], community=unit(community), visited_at=when, place=f"{key[:1]}户",
                              findings=["路灯不亮，晚上很黑"], client_key=key)


def test_the_ledger_is_per_community_and_month(users):
    _visits(users)
    month = timezone.localdate().replace(day=1)
    ledger = list(selectors.visit_ledger(user=users["admin"], community=unit("community:JSL03"), month=month))
    assert [v.place for v in ledger] == ["a户"]
    assert len(selectors.visit_ledger(user=users["admin"], community=None, month=month)) == 2
    assert [v.place for v in selectors.visit_ledger(user=users["community"], community=None, month=month)] == ["a户"]


def test_the_ledger_exports_with_dates_as_dates(login, users):
    _visits(users)
    response = login(users["community"]).get(reverse("channels:visit_ledger_export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b and len(rows) == 2
    assert isinstance(rows[1][2], dt.datetime) and rows[1][7].startswith("1. 路灯不亮")


def test_the_ledger_page_filters_by_month(login, users):
    _visits(users)
    client = login(users["admin"])
    html = client.get(reverse("channels:visit_ledger")).content.decode()
    assert "a户" in html and "c户" in html and "b户" not in html
    last = (timezone.localdate().replace(day=1) - dt.timedelta(days=3)).strftime("%Y-%m")
    html = client.get(reverse("channels:visit_ledger") + f"?month={last}").content.decode()
    assert "b户" in html and "a户" not in html
