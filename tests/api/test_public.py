"""The residents' endpoints: submit (JSON and multipart), follow, rate; rate limits and
idempotency keys."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from PIL import Image

from minsheng.cases.choices import CaseState, Channel
from minsheng.cases.models import Case

from .conftest import ApiClient, jpeg_with_exif

pytestmark = pytest.mark.django_db

URL = "/api/v1/public/appeals"
TEXT = "计划路菜市场门口垃圾三天没人清运，气味很大"


def appeal(**overrides) -> dict:
    return {"text": TEXT, "address": "计划路菜市场", "name": "李四", "phone": "13912345678", **overrides}


def test_it_files_an_appeal_and_answers_with_the_tracking_code_and_the_dispatch_outcome():
    response = ApiClient().post_json(URL, appeal())

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get()
    assert body["tracking_code"] == case.tracking_code
    assert (case.channel, case.text, case.reporter_phone, case.reporter_name) == (Channel.API, TEXT, "13912345678", "李四")
    assert body["state"] == case.state
    assert set(body["dispatch"]) == {"pending", "auto_dispatched", "suggested_unit", "assigned_unit", "category"}
    assert body["dispatch"]["auto_dispatched"] == (case.state == CaseState.DISPATCHED)
    # The test settings route in the request (no worker is woken); tests/production covers the worker.
    assert body["dispatch"]["pending"] is False
    # Intelligent dispatch ran: its suggestion is stored on the case.
    assert case.dispatch_meta.get("model_version")


def test_the_channel_can_name_where_a_relaying_system_heard_the_appeal():
    ApiClient().post_json(URL, appeal(channel="hotline"))

    assert Case.objects.get().channel == Channel.HOTLINE


def test_it_refuses_a_short_text_and_a_bad_phone_with_the_invalid_code():
    short = ApiClient().post_json(URL, appeal(text="垃圾"))
    phone = ApiClient().post_json(URL, appeal(phone="12345"))

    assert (short.status_code, short.json()["code"]) == (422, "invalid")
    assert (phone.status_code, phone.json()["code"]) == (422, "invalid")
    assert not Case.objects.exists()


@pytest.mark.parametrize("body", [
    appeal(text=TEXT + "\u0000"),
    appeal(name="李\u0000四"),
    appeal(extra={"nested": ["ok", "\u0000"]}),
], ids=["nul-in-text", "nul-in-name", "nul-in-an-ignored-field"])
def test_it_refuses_text_with_a_nul_character_as_invalid_input(body):
    response = ApiClient().post_json(URL, body)

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert "NUL" in response.json()["message"]
    assert not Case.objects.exists()


def test_it_refuses_a_lone_surrogate_that_no_database_can_store():
    raw = '{"text": "%s\\udb3b", "address": "计划路菜市场"}' % TEXT
    response = Client().post(URL, raw, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert not Case.objects.exists()


def test_a_form_body_with_a_nul_character_is_refused_too():
    response = Client().post(URL, {"text": TEXT + "\x00", "address": "计划路菜市场"})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert not Case.objects.exists()


def test_it_refuses_a_body_that_is_neither_json_nor_a_form():
    response = Client().post(URL, "text", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_multipart_appeal_keeps_its_photos_without_their_metadata():
    photo = SimpleUploadedFile("p.jpg", jpeg_with_exif(), content_type="image/jpeg")

    response = Client().post(URL, {**appeal(), "photos": [photo]})

    assert response.status_code == 201, response.content
    attachment = Case.objects.get().attachments.get()
    assert attachment.content_type == "image/jpeg"
    with Image.open(attachment.file.path) as image:
        assert not image.getexif()


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_filed():
    fake = SimpleUploadedFile("p.jpg", b"not an image", content_type="image/jpeg")

    response = Client().post(URL, {**appeal(), "photos": [fake]})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert not Case.objects.exists()


# ---------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_twice_files_one_case_and_answers_the_same():
    client = ApiClient()
    first = client.post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="retry-key-0001")
    second = client.post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="retry-key-0001")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1
    assert Case.objects.get().idempotency_key == "api:retry-key-0001"


def test_a_retried_multipart_submission_does_not_attach_its_photos_twice():
    def send():
        photo = SimpleUploadedFile("p.jpg", jpeg_with_exif(), content_type="image/jpeg")
        return Client().post(URL, {**appeal(), "photos": [photo]}, HTTP_IDEMPOTENCY_KEY="photo-key-0001")

    send()
    send()

    assert Case.objects.get().attachments.count() == 1


def test_different_keys_file_different_cases():
    client = ApiClient()
    client.post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="key-number-one")
    client.post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="key-number-two")

    assert Case.objects.count() == 2


def test_a_key_reused_for_another_appeal_is_refused():
    client = ApiClient()
    client.post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="reused-key-0001")
    other = client.post_json(URL, appeal(text="碧沙岗公园南门路灯不亮已经一周了"), HTTP_IDEMPOTENCY_KEY="reused-key-0001")

    assert (other.status_code, other.json()["code"]) == (422, "idempotency_mismatch")
    assert Case.objects.count() == 1


def test_a_malformed_idempotency_key_is_refused():
    response = ApiClient().post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="short")

    assert (response.status_code, response.json()["code"]) == (422, "invalid")


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_submissions_file_one_case(committed_district):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so the race cannot happen there")
    barrier = threading.Barrier(4)
    answers: list = []

    def submit():
        try:
            barrier.wait(timeout=10)
            answers.append(ApiClient().post_json(URL, appeal(), HTTP_IDEMPOTENCY_KEY="concurrent-key-01"))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["tracking_code"] for a in answers}) == 1
    assert Case.objects.filter(idempotency_key="api:concurrent-key-01").count() == 1


# ---------------------------------------------------------------- rate limits


@override_settings(MINSHENG_SUBMIT_RATE="2/m")
def test_submissions_past_the_rate_are_refused_with_429():
    client = ApiClient()
    codes = [client.post_json(URL, appeal(text=f"{TEXT}（第{i}次）")).status_code for i in range(3)]

    assert codes == [201, 201, 429]
    assert client.post_json(URL, appeal()).json()["code"] == "rate_limited"


@override_settings(MINSHENG_TRACK_RATE="3/m")
def test_guessing_phone_digits_for_one_code_is_limited(cases):
    case = cases.make()
    client = ApiClient()
    codes = [client.get(f"{URL}/{case.tracking_code}", {"phone_last4": f"{i:04d}"}).status_code for i in range(4)]

    assert codes == [404, 404, 404, 429]


# ---------------------------------------------------------------- following and rating


def test_the_resident_follows_the_appeal_with_the_code_and_phone_digits(cases):
    case = cases.make(CaseState.IN_PROGRESS)

    response = ApiClient().get(f"{URL}/{case.tracking_code}", {"phone_last4": "5678"})

    assert response.status_code == 200
    body = response.json()
    assert (body["tracking_code"], body["state"], body["handling_unit"]) == (case.tracking_code, "in_progress", "建设路街道")
    assert [entry["text"] for entry in body["timeline"]][:1] == ["您提交了诉求"]
    assert body["version"] == case.version


def test_the_public_timeline_shows_no_internal_notes(cases, users):
    from minsheng.cases.services import case_add_note

    case = cases.make(CaseState.IN_PROGRESS)
    case_add_note(case=case, acting_user=users["dispatcher"], text="内部：该户多次来电")

    body = ApiClient().get(f"{URL}/{case.tracking_code}", {"phone_last4": "5678"}).json()

    assert "内部" not in str(body)


def test_a_wrong_phone_and_an_unknown_code_get_the_same_404(cases):
    case = cases.make()

    wrong = ApiClient().get(f"{URL}/{case.tracking_code}", {"phone_last4": "0000"})
    unknown = ApiClient().get(f"{URL}/ZZZZ9999999", {"phone_last4": "5678"})

    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_a_satisfied_resident_closes_the_appeal(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    response = ApiClient().post_json(f"{URL}/{case.tracking_code}/feedback", {"phone_last4": "5678", "rating": "satisfied", "resolved": True})

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.state, case.feedback, case.feedback_resolved) == (CaseState.CLOSED, "satisfied", True)
    assert response.json()["state"] == "closed"


def test_an_unsatisfied_resident_reopens_it(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    ApiClient().post_json(f"{URL}/{case.tracking_code}/feedback", {"phone_last4": "5678", "rating": "unsatisfied", "comment": "没有解决"})

    case.refresh_from_db()
    assert (case.state, case.rehandle_count) == (CaseState.IN_PROGRESS, 1)


def test_rating_before_the_answer_is_not_allowed(cases):
    case = cases.make(CaseState.IN_PROGRESS)

    response = ApiClient().post_json(f"{URL}/{case.tracking_code}/feedback", {"phone_last4": "5678", "rating": "satisfied"})

    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")


def test_rating_an_appeal_that_moved_on_is_stale(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    response = ApiClient().post_json(
        f"{URL}/{case.tracking_code}/feedback", {"phone_last4": "5678", "rating": "satisfied", "expected_version": case.version - 1})

    assert (response.status_code, response.json()["code"]) == (409, "stale")


def test_rating_needs_the_phone_digits(cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    response = ApiClient().post_json(f"{URL}/{case.tracking_code}/feedback", {"phone_last4": "1111", "rating": "satisfied"})

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK


def test_a_database_outage_is_a_json_503_and_nothing_is_saved(monkeypatch):
    from django.db import OperationalError

    def outage(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    # The database goes away under the submission itself: the service raises what the driver does.
    monkeypatch.setattr("minsheng.api.rest.public.public_appeal_submit", outage)
    response = Client().post("/api/v1/public/appeals", json.dumps({"text": "小区门口路灯坏了很久没人修", "phone": "13812345678"}),
                             content_type="application/json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable"
    assert Case.objects.count() == 0
