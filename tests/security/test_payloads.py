"""Hostile input in every text field the public and the staff can fill: script tags, broken
attributes, javascript: URLs, SQL fragments and path traversal. None of it gets a 5xx; what is
shown again is shown escaped (the escaped form on the page, the raw tag nowhere); what is
stored is stored verbatim (so no SQL was built from it); uploads land under generated names.
Then bodies no browser sends: beyond the size limits, too many fields or files, an enormous
image, the wrong content type, cut-off multipart, invalid UTF-8, JSON nested past reason —
4xx, never 5xx."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from minsheng.cases.choices import CaseState
from minsheng.cases.models import Attachment, Case
from minsheng.channels import services as channels
from minsheng.channels.models import SuggestionNote
from minsheng.intake.forms import submission_token_new
from tests.factories import unit

pytestmark = pytest.mark.django_db

XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)")
SQL = ("' OR 1=1 --", "1; DROP TABLE cases_case; --")
TRAVERSAL = ("../../etc/passwd", "..%2f..%2fetc%2fpasswd")
PAYLOADS = XSS + SQL + TRAVERSAL
#: One text carrying every payload (and enough words to pass "describe the problem").
HOSTILE_TEXT = "楼道灯坏了一个月没人修 " + " ".join(PAYLOADS)
#: For short fields (name ≤ 100, address ≤ 300).
HOSTILE_SHORT = '"><img src=x onerror=alert(1)> \' OR 1=1 --'
RAW_TAGS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def page(response) -> str:
    assert response.status_code < 500, response.status_code
    return response.content.decode("utf-8", "replace")


def assert_no_raw_tags(html: str) -> None:
    for tag in RAW_TAGS:
        assert tag not in html, f"unescaped {tag!r} on the page"


def assert_shown_escaped(html: str, payloads=PAYLOADS) -> None:
    assert_no_raw_tags(html)
    for payload in payloads:
        assert escape(payload) in html, f"{payload!r} is not shown (escaped) on the page"


def jpeg(size=(40, 30)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 50, 50)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def appeal(**overrides) -> dict:
    return {"text": HOSTILE_TEXT, "address": HOSTILE_SHORT, "category": "", "reporter_name": HOSTILE_SHORT,
            "reporter_phone": "13912345678", "token": submission_token_new(), **overrides}


# ---------------------------------------------------------------- residents' pages


def test_a_hostile_appeal_is_stored_verbatim_and_shown_escaped_to_resident_and_staff(client, users):
    photos = [SimpleUploadedFile("../../etc/passwd.jpg", jpeg(), content_type="image/jpeg"),
              SimpleUploadedFile('..%2f..%2f<script>alert(1)</script>.jpg', jpeg(), content_type="image/jpeg")]
    cases_before = Case.objects.count()

    response = client.post("/appeal/new/", {**appeal(), "photos": photos})

    assert response.status_code == 302, page(response)
    case = Case.objects.get(text=HOSTILE_TEXT)  # stored as typed: no SQL was made of it
    assert Case.objects.count() == cases_before + 1
    assert case.reporter_name == HOSTILE_SHORT
    media = Path(settings.MEDIA_ROOT).resolve()
    attachments = list(Attachment.objects.filter(case=case))
    assert len(attachments) == 2
    for attachment in attachments:
        name = attachment.file.name
        assert name.startswith(f"cases/{case.pk}/") and ".." not in name and "passwd" not in name and "script" not in name, name
        stored = (media / name).resolve()
        assert stored.is_relative_to(media) and stored.is_file()
        with Image.open(stored) as image:
            assert not image.getexif(), "metadata kept"
    # The resident's own pages (this browser submitted it).
    assert_no_raw_tags(page(client.get(response["Location"])))  # the receipt: code and next steps
    assert_shown_escaped(page(client.get(reverse("intake:case", args=[case.tracking_code]))))
    # The workbench: case page and queue (the address and name are shown masked, never raw).
    client.force_login(users["dispatcher"])
    assert_shown_escaped(page(client.get(reverse("desk:case", args=[case.pk]))))
    assert_no_raw_tags(page(client.get(reverse("desk:queue", args=["to_dispatch"]))))


def test_hostile_tracking_lookups_are_refused_plainly(client, users, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    for payload in PAYLOADS:
        html = page(client.post("/track/", {"tracking_code": payload, "phone_last4": payload}))
        assert_no_raw_tags(html)
        assert_no_raw_tags(page(client.get("/track/", {"code": payload})))
        assert page(client.get(f"/track/{payload}/")) is not None  # a redirect to the lookup or a 404
    # Only the true code and phone digits open the appeal.
    assert client.post("/track/", {"tracking_code": f"{case.tracking_code}' OR 1=1 --", "phone_last4": "5678"}).status_code == 200
    assert client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": "' OR"}).status_code == 200
    assert client.get(reverse("intake:case", args=[case.tracking_code])).status_code == 302


def test_a_hostile_feedback_comment_is_shown_escaped(client, users, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": case.phone_last4})

    response = client.post(reverse("intake:rate", args=[case.tracking_code]),
                           {"rating": "unsatisfied", "resolved": "no", "comment": HOSTILE_TEXT, "version": case.version})

    assert response.status_code == 302, page(response)
    assert case.events.filter(action="feedback_reopen", reason=HOSTILE_TEXT).exists()
    client.force_login(users["dispatcher"])
    assert_shown_escaped(page(client.get(reverse("desk:case", args=[case.pk]))))


def test_a_hostile_note_in_a_suggestion_box_is_shown_escaped_to_staff(client, users):
    box = channels.boxes_open(acting_user=users["admin"], units=[unit("community:JSL03")])[0]

    response = client.post(f"/box/{box.token}/", {"text": HOSTILE_TEXT, "address": HOSTILE_SHORT, "name": HOSTILE_SHORT,
                                                   "phone": "", "token": "t" * 24})

    assert response.status_code == 302, page(response)
    assert SuggestionNote.objects.filter(text=HOSTILE_TEXT).exists()
    client.force_login(users["street"])
    assert_shown_escaped(page(client.get(reverse("channels:notes"), {"status": "pending"})))
    assert_shown_escaped(page(client.get(reverse("channels:box", args=[box.pk]))))


def test_hostile_survey_questions_and_answers_are_shown_escaped(client, users):
    admin = users["admin"]
    survey = channels.survey_create(acting_user=admin, title=f"问卷{XSS[0]}", owner_unit=unit("community:JSL03"))
    question = channels.survey_question_add(survey=survey, section=survey.sections.get(), acting_user=admin, kind="text",
                                            text=f"您的意见？{XSS[1]}")
    channels.survey_publish(survey=survey, acting_user=admin)

    public = page(client.get(f"/s/{survey.token}/"))
    response = client.post(f"/s/{survey.token}/", {f"q{question.pk}": HOSTILE_TEXT, "community": unit("community:JSL03").pk, "phone": ""})

    assert_shown_escaped(public, payloads=XSS[:2])
    assert response.status_code == 302, page(response)
    client.force_login(users["street"])
    assert_shown_escaped(page(client.get(reverse("channels:survey_results", args=[survey.pk]))))


# ---------------------------------------------------------------- the workbench


def test_a_hostile_hotline_call_is_stored_verbatim_and_shown_escaped(client, users):
    client.force_login(users["operator"])

    response = client.post(reverse("desk:hotline"), {"token": "a" * 32, "text": HOSTILE_TEXT, "reporter_phone": "13912345678",
                                                     "address": HOSTILE_SHORT, "reporter_name": HOSTILE_SHORT, "urgency": "normal"})

    assert response.status_code == 302, page(response)
    case = Case.objects.get(text=HOSTILE_TEXT)
    assert_shown_escaped(page(client.get(response["Location"])))
    assert_no_raw_tags(page(client.get(reverse("desk:hotline"), {"phone": "13912345678"})))
    assert case.reporter_name == HOSTILE_SHORT


def test_hostile_notes_on_case_actions_are_shown_escaped(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["street"])
    for action, field in (("note", "text"), ("contact", "note")):
        case.refresh_from_db()
        response = client.post(reverse("desk:act", args=[case.pk, action]), {"version": case.version, field: HOSTILE_TEXT})
        assert response.status_code == 302, page(response)
    client.force_login(users["dispatcher"])
    case.refresh_from_db()
    response = client.post(reverse("desk:act", args=[case.pk, "supervise"]), {"version": case.version, "level": 2, "reason": HOSTILE_TEXT})
    assert response.status_code == 302, page(response)

    assert case.events.filter(reason=HOSTILE_TEXT).count() + case.events.filter(data__text=HOSTILE_TEXT).count() >= 1
    assert_shown_escaped(page(client.get(reverse("desk:case", args=[case.pk]))))


def test_hostile_query_strings_on_every_page_are_harmless(client, db, users, cases):
    """Every page of the sweep's table that answers GET, with hostile values in every query
    parameter the pages read (search, filters, paging, dates, next)."""
    from .test_url_sweep import SITE

    cases.make(CaseState.IN_PROGRESS)
    params = ("q", "page", "status", "state", "month", "start", "end", "street", "community", "category", "unit", "channel",
              "urgency", "flag", "date_from", "date_to", "sort", "phone", "reporter_phone", "code", "next", "metric", "unit_id",
              "group", "kind", "table")
    client.force_login(users["admin"])
    checked = 0
    for name, (method, _own, _foreign) in sorted(SITE.items()):
        if method != "GET":
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # needs path parameters: the sweep covers those
        for shift in range(2):  # every parameter gets two of the payloads, in turn
            response = client.get(url, {p: PAYLOADS[(i + shift * 3) % len(PAYLOADS)] for i, p in enumerate(params)})
            assert response.status_code < 500, (name, shift, response.status_code)
            if response.get("Content-Type", "").startswith("text/html"):
                assert_no_raw_tags(response.content.decode("utf-8", "replace"))
            if response.status_code in (301, 302):
                assert not response["Location"].lower().startswith("javascript:"), name
        checked += 1
    assert checked >= 30


def test_a_hostile_import_file_name_is_kept_as_text_and_written_nowhere(client, users):
    from tests.channels.conftest import csv_bytes, good_rows

    client.force_login(users["operator"])
    name = "../../<script>alert(1)</script>' OR 1=1 --.csv"
    media_before = sorted(Path(settings.MEDIA_ROOT).rglob("*")) if Path(settings.MEDIA_ROOT).exists() else []

    response = client.post(reverse("channels:import_home"), {"file": SimpleUploadedFile(name, csv_bytes(good_rows(2)), content_type="text/csv")})

    assert response.status_code == 302, page(response)
    from minsheng.channels.models import ImportBatch

    batch = ImportBatch.objects.order_by("-pk").first()
    assert "/" not in batch.file_name and ".." not in batch.file_name and batch.file_name.endswith("' OR 1=1 --.csv")
    html = page(client.get(response["Location"]))
    assert_no_raw_tags(html)
    assert escape(batch.file_name) in html and batch.file_name not in html
    media_after = sorted(Path(settings.MEDIA_ROOT).rglob("*")) if Path(settings.MEDIA_ROOT).exists() else []
    assert media_after == media_before  # the file is read, never saved under its name
    assert not Path(settings.MEDIA_ROOT).parent.parent.joinpath("<script>alert(1)</script>' OR 1=1 --.csv").exists()


def test_media_urls_do_not_walk_out_of_the_media_folder(client):
    for path in ("/media/../../etc/passwd", "/media/..%2f..%2fetc%2fpasswd", "/media/%2e%2e/%2e%2e/etc/passwd", "/media//etc/passwd"):
        response = client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)


def test_javascript_and_foreign_next_urls_never_become_redirects(client, users):
    hostile = ("javascript:alert(1)", "//evil.example/", "https://evil.example/", "/\\evil.example")
    for target in hostile:
        login = client.post(f"/accounts/login/?next={target}", {"username": "dispatcher", "password": "test-pass-123", "next": target})
        assert login.status_code == 302 and not login["Location"].startswith(("javascript:", "//", "http", "/\\")), login["Location"]
        client.force_login(users["dispatcher"])
        read_all = client.post(reverse("desk:notifications_read_all"), {"next": target})
        assert read_all["Location"] == reverse("desk:notifications"), read_all["Location"]
        language = client.post("/i18n/setlang/", {"language": "en", "next": target})
        assert not language["Location"].startswith(("javascript:", "//", "http", "/\\")), language["Location"]
        client.logout()


# ---------------------------------------------------------------- the open interfaces


def test_hostile_api_bodies_are_stored_verbatim_and_never_executed(client, users):
    from minsheng.api.services.tokens import token_create

    response = client.post("/api/v1/public/appeals", json.dumps({"text": HOSTILE_TEXT, "address": HOSTILE_SHORT, "name": HOSTILE_SHORT,
                                                                  "phone": "13912345678"}), content_type="application/json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(text=HOSTILE_TEXT)
    key = token_create(user=users["dispatcher"], name="t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    detail = client.get(f"/api/v1/cases/{case.pk}", **auth)
    assert detail["Content-Type"].startswith("application/json") and detail.json()["text"] == HOSTILE_TEXT
    for payload in PAYLOADS:
        listed = client.get("/api/v1/cases", {"q": payload, "state": payload, "page": payload}, **auth)
        assert listed.status_code in (200, 422), (payload, listed.status_code)
        note = client.post(f"/api/v1/cases/{case.pk}/actions/note", json.dumps({"expected_version": payload, "text": payload}),
                           content_type="application/json", **auth)
        assert note.status_code == 422
    webhook = client.post("/api/v1/webhooks", json.dumps({"url": "javascript:alert(1)", "event_types": ["case.*"]}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token_create(user=users['admin'], name='t')[1]}")
    assert webhook.status_code == 422


def test_hostile_open311_requests_come_back_escaped_in_xml(client, users):
    from minsheng.api.services.tokens import token_create

    key = token_create(user=users["operator"], name="t")[1]
    created = client.post("/open311/v2/requests.json", {"api_key": key, "service_code": "CGM.HJWS", "description": HOSTILE_TEXT,
                                                         "address_string": HOSTILE_SHORT, "first_name": HOSTILE_SHORT})
    assert created.status_code == 201, created.content
    code = created.json()[0].get("service_request_id") or Case.objects.get(text=HOSTILE_TEXT).tracking_code
    as_xml = client.get(f"/open311/v2/requests/{code}.xml")
    assert as_xml.status_code == 200
    assert_no_raw_tags(as_xml.content.decode())
    for payload in PAYLOADS:
        assert client.get("/open311/v2/requests.json", {"service_code": payload, "status": payload, "start_date": payload}).status_code < 500
        assert client.get(f"/open311/v2/requests/{payload.replace('/', '%2F')}.json").status_code < 500


# ---------------------------------------------------------------- bodies no browser sends


def _post_raw(client, path: str, body: bytes, content_type: str, **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def test_a_body_beyond_the_upload_limit_is_refused(client, users):
    huge = b"text=" + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    assert _post_raw(client, "/appeal/new/", huge, "application/x-www-form-urlencoded").status_code == 400
    assert _post_raw(client, f"/box/{'x' * 22}/", huge, "application/x-www-form-urlencoded").status_code in (400, 404)
    giant_json = json.dumps({"text": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)}).encode()
    assert 400 <= _post_raw(client, "/api/v1/public/appeals", giant_json, "application/json").status_code < 500


def test_too_many_fields_or_files_are_refused(client, users):
    fields = "&".join(f"f{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)).encode()
    assert _post_raw(client, "/appeal/new/", fields, "application/x-www-form-urlencoded").status_code == 400
    client.force_login(users["operator"])
    assert _post_raw(client, reverse("desk:hotline"), fields, "application/x-www-form-urlencoded").status_code == 400
    client.logout()
    files = [SimpleUploadedFile(f"p{i}.jpg", b"x", content_type="image/jpeg") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = client.post("/appeal/new/", {**appeal(text="计划路菜市场门口垃圾三天没人清运"), "photos": files})
    assert 400 <= response.status_code < 500
    assert not Case.objects.filter(text="计划路菜市场门口垃圾三天没人清运").exists()


def test_giant_and_fake_images_are_refused_with_a_clear_error(client):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # small file, 144 megapixels decoded
    oversized = SimpleUploadedFile("big.jpg", b"\xff\xd8" + os.urandom(settings.MINSHENG_MAX_UPLOAD_BYTES + 1), content_type="image/jpeg")
    for upload in (SimpleUploadedFile("bomb.png", bomb.getvalue(), content_type="image/png"),
                   SimpleUploadedFile("script.jpg", b"<script>alert(1)</script>", content_type="image/jpeg"),
                   SimpleUploadedFile("shell.php", b"<?php system($_GET['c']); ?>", content_type="application/x-php"),
                   SimpleUploadedFile("page.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', content_type="image/svg+xml"),
                   oversized):
        cache.clear()
        text = f"计划路菜市场门口垃圾三天没人清运{upload.name}"
        response = client.post("/appeal/new/", {**appeal(text=text, address="计划路", reporter_name="李四"), "photos": [upload]})
        assert response.status_code == 200 or 400 <= response.status_code < 500, (upload.name, response.status_code)
        assert not Case.objects.filter(text=text).exists(), upload.name
        assert_no_raw_tags(page(response))
    for name in ("bomb.png", "script.jpg"):
        upload = SimpleUploadedFile(name, bomb.getvalue() if name == "bomb.png" else b"<script>", content_type="image/png")
        api = client.post("/api/v1/public/appeals", {"text": "计划路菜市场门口垃圾三天没人清运", "phone": "13912345678", "photos": [upload]})
        assert 400 <= api.status_code < 500, (name, api.status_code)


def test_wrong_content_types_are_refused(client, users):
    body = json.dumps({"text": "计划路菜市场门口垃圾三天没人清运", "phone": "13912345678"}).encode()
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded", "image/png"):
        response = _post_raw(client, "/api/v1/public/appeals", body, content_type)
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
    from minsheng.api.services.tokens import token_create

    key = token_create(user=users["dispatcher"], name="t")[1]
    response = client.post("/api/v1/cases/1/actions/note", {"text": "x"}, HTTP_AUTHORIZATION=f"Bearer {key}")  # multipart
    assert 400 <= response.status_code < 500
    assert _post_raw(client, "/appeal/new/", body, "application/json").status_code < 500


def test_cut_off_multipart_and_invalid_utf8_are_refused(client, users):
    boundary = "BoUnDaRy"
    truncated = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n计划路垃圾没人清运\r\n"
                 f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\r\n"
                 "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff").encode("latin-1", "replace")
    for path in ("/appeal/new/", "/api/v1/public/appeals", f"/box/{'x' * 22}/"):
        cache.clear()
        response = _post_raw(client, path, truncated, f"multipart/form-data; boundary={boundary}")
        assert response.status_code < 500, (path, response.status_code)
        response = _post_raw(client, path, b"garbage", "multipart/form-data")  # no boundary at all
        assert response.status_code < 500, (path, response.status_code)
    bad_utf8 = b"text=\xff\xfe\xfd%ff%fe&address=\xc3\x28&reporter_phone=13912345678&token=" + submission_token_new().encode()
    cache.clear()
    assert _post_raw(client, "/appeal/new/", bad_utf8, "application/x-www-form-urlencoded").status_code < 500
    assert 400 <= _post_raw(client, "/api/v1/public/appeals", b'{"text": "\xff\xfe\xc3\x28abc", "phone": "13912345678"}',
                            "application/json").status_code < 500
    for path in ("/track/%FF%FE/", "/desk/queue/%FF/", "/open311/v2/requests/%FF.json"):
        assert client.get(path).status_code < 500, path
    assert client.get("/places/?q=%FF%FE").status_code < 500
    client.force_login(users["dispatcher"])
    assert client.get("/desk/queue/to_dispatch/?q=%FF%FE%00").status_code < 500


def test_deeply_nested_json_is_refused(client, users):
    from minsheng.api.services.tokens import token_create

    key = token_create(user=users["admin"], name="t")[1]
    nested = b"[" * 100_000 + b"]" * 100_000
    nested_object = b'{"text": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    for body in (nested, nested_object):
        assert 400 <= _post_raw(client, "/api/v1/public/appeals", body, "application/json").status_code < 500
        for path in ("/api/v1/cases/1/actions/note", "/api/v1/webhooks"):
            response = _post_raw(client, path, body, "application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
            assert 400 <= response.status_code < 500, (path, response.status_code)


def test_hostile_forum_visit_and_topic_records_are_shown_escaped(client, users):
    """What staff record for the listening channels and 每月一题 — meeting titles, minutes and
    issues, visit notes and findings, topic titles and plans — is shown escaped on every page
    that lists or shows it (the issues and findings become cases, shown on the workbench)."""
    from minsheng.analytics.services import topic_adopt
    from minsheng.cases.models import Category

    admin, jsl03 = users["admin"], unit("community:JSL03")
    title = f"议事会{XSS[0]}"
    forum = channels.forum_record(acting_user=admin, kind="community", title=title, held_on=timezone.localdate(), place=XSS[1],
                                  host_unit=jsl03, minutes=HOSTILE_TEXT, issues=[{"text": HOSTILE_TEXT}])
    visit, _created = channels.visit_record(acting_user=admin, community=jsl03, visited_at=timezone.now(), place=XSS[1],
                                            client_key="payload-visit-1", people_met=XSS[0], situation=HOSTILE_TEXT,
                                            findings=[HOSTILE_TEXT])
    topic = topic_adopt(acting_user=admin, month=timezone.localdate(), category=Category.objects.get(code="CGM.HJWS"),
                        street=unit("street:JSL"), community=jsl03, owner_unit=unit("street:JSL"), title=f"清运{XSS[0]}"[:60],
                        plan=HOSTILE_TEXT)
    client.force_login(users["street"])

    for url in (reverse("channels:forum", args=[forum.pk]), reverse("channels:forum_ledger", args=[forum.pk]),
                reverse("channels:visit", args=[visit.pk]), reverse("analytics:topic", args=[topic.pk])):
        assert_shown_escaped(page(client.get(url)))
    for url in (reverse("channels:forums"), reverse("channels:visits"), reverse("channels:visit_ledger"), reverse("analytics:topics"),
                reverse("channels:home")):
        assert_no_raw_tags(page(client.get(url)))
    for case in Case.objects.filter(text=HOSTILE_TEXT):
        assert_shown_escaped(page(client.get(reverse("desk:case", args=[case.pk]))))
