"""Raising an appeal from the phone page."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from minsheng.cases.choices import CaseState, Channel
from minsheng.cases.models import Case, CaseEvent
from minsheng.intake.forms import submission_token_new

from .conftest import jpeg_with_exif, png_bytes

pytestmark = pytest.mark.django_db

TEXT = "计划路菜市场门口垃圾三天没人清运，气味很大"


def appeal(**overrides) -> dict:
    data = {
        "text": TEXT,
        "address": "计划路菜市场",
        "category": "",
        "reporter_name": "李四",
        "reporter_phone": "13912345678",
        "token": submission_token_new(),
    }
    data.update(overrides)
    return data


def photo(name: str = "p.jpg", content: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, jpeg_with_exif() if content is None else content, content_type=content_type)


def test_the_blank_form_carries_a_fresh_one_time_token(client):
    first = client.get("/appeal/new/").content.decode()
    second = client.get("/appeal/new/").content.decode()
    tokens = [re.search(r'name="token" value="([^"]+)"', page).group(1) for page in (first, second)]
    assert tokens[0] != tokens[1]


def test_it_files_an_appeal_and_shows_the_tracking_code(client):
    response = client.post("/appeal/new/", appeal(category="CGM.HJWS"))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appeal/{case.tracking_code}/done/"
    assert (case.state, case.channel, case.text) == (CaseState.SUBMITTED, Channel.WEB, TEXT)
    assert (case.address, case.reporter_phone, case.category.code) == ("计划路菜市场", "13912345678", "CGM.HJWS")
    done = client.get(response["Location"])
    assert case.tracking_code in done.content.decode()
    assert 'class="tracking-code"' in done.content.decode()


def test_the_done_page_is_only_for_the_browser_that_submitted(client, cases):
    case = cases.make()

    response = client.get(f"/appeal/{case.tracking_code}/done/")

    assert response.status_code == 302
    assert response["Location"].startswith("/track/?code=")


def test_photos_are_stored_re_encoded_without_exif(client):
    original = jpeg_with_exif()
    assert b"PhoneMaker" in original

    client.post("/appeal/new/", {**appeal(), "photos": [photo(content=original), photo("b.png", png_bytes(), "image/png")]})

    attachments = Case.objects.get().attachments.order_by("id")
    assert [a.content_type for a in attachments] == ["image/jpeg", "image/png"]
    with attachments[0].file.open("rb") as stored:
        content = stored.read()
    assert b"PhoneMaker" not in content
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert image.size == (64, 48)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "请写下您要反映的问题。"), ("垃圾没清", "内容太短")],
)
def test_it_refuses_an_empty_or_too_short_description(client, text, message):
    response = client.post("/appeal/new/", appeal(text=text))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Case.objects.exists()


def test_it_refuses_a_malformed_phone_number_next_to_the_field(client):
    response = client.post("/appeal/new/", appeal(reporter_phone="12345"))

    page = response.content.decode()
    assert "请填写11位手机号码" in page
    assert 'id="id_reporter_phone_error1"' in page
    assert not Case.objects.exists()


def test_it_accepts_a_phone_number_written_with_spaces_and_country_code(client):
    client.post("/appeal/new/", appeal(reporter_phone="+86 139 1234 5678"))

    assert Case.objects.get().reporter_phone == "13912345678"


def test_nothing_typed_is_lost_when_the_form_comes_back_with_an_error(client):
    data = appeal(reporter_phone="12345", address="碧沙岗公园南门", reporter_name="王五", category="CGM.ZDJY")

    page = client.post("/appeal/new/", data).content.decode()

    assert TEXT in page
    assert 'value="碧沙岗公园南门"' in page
    assert 'value="王五"' in page
    assert 'value="12345"' in page
    assert re.search(r'<option value="CGM.ZDJY"[^>]*selected', page)
    assert f'value="{data["token"]}"' in page


def test_it_refuses_a_file_that_is_not_an_image(client):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a picture", content_type="image/jpeg")

    page = client.post("/appeal/new/", {**appeal(), "photos": [fake]}).content.decode()

    assert "第1张照片：这不是可识别的图片文件。" in page
    assert "请重新选择照片" in page
    assert not Case.objects.exists()


def test_it_refuses_an_image_of_another_format(client):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")

    page = client.post("/appeal/new/", {**appeal(), "photos": [photo("a.gif", buffer.getvalue(), "image/gif")]}).content.decode()

    assert "只能上传 JPEG、PNG 或 WebP 格式的图片。" in page
    assert not Case.objects.exists()


def test_it_refuses_more_than_three_photos(client):
    page = client.post("/appeal/new/", {**appeal(), "photos": [photo(f"{i}.jpg") for i in range(4)]}).content.decode()

    assert "最多上传3张照片。" in page
    assert not Case.objects.exists()


def test_it_refuses_an_oversized_photo(client, settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 100

    page = client.post("/appeal/new/", {**appeal(), "photos": [photo()]}).content.decode()

    assert "文件太大" in page
    assert not Case.objects.exists()


def test_the_same_form_sent_twice_files_one_case(client):
    data = appeal()

    first = client.post("/appeal/new/", {**data, "photos": [photo()]})
    second = client.post("/appeal/new/", {**data, "photos": [photo()]})

    case = Case.objects.get()
    assert first["Location"] == second["Location"] == f"/appeal/{case.tracking_code}/done/"
    assert case.attachments.count() == 1
    assert CaseEvent.objects.filter(case=case, action="submit").count() == 1


def test_a_retry_from_another_browser_session_returns_the_same_case(client):
    from django.test import Client

    data = appeal()
    client.post("/appeal/new/", data)

    response = Client().post("/appeal/new/", data)

    assert Case.objects.count() == 1
    assert response["Location"] == f"/appeal/{Case.objects.get().tracking_code}/done/"


def test_a_tampered_token_is_refused(client):
    page = client.post("/appeal/new/", appeal(token="short")).content.decode()

    assert "页面已失效" in page
    assert not Case.objects.exists()


def test_an_anonymous_appeal_keeps_no_name_or_phone(client):
    client.post("/appeal/new/", appeal(is_anonymous="on", reporter_phone="bad-number"))

    case = Case.objects.get()
    assert case.is_anonymous
    assert (case.reporter_name, case.reporter_phone) == ("", "")


def test_the_anonymous_done_page_says_the_code_alone_opens_the_case(client):
    response = client.post("/appeal/new/", appeal(is_anonymous="on"), follow=True)

    assert "您没有留电话" in response.content.decode()


def test_submitting_is_rate_limited_per_address(client, settings):
    settings.MINSHENG_SUBMIT_RATE = "2/h"
    for _ in range(2):
        assert client.post("/appeal/new/", appeal()).status_code == 302

    response = client.post("/appeal/new/", appeal())

    assert response.status_code == 429
    assert "操作太频繁" in response.content.decode()
    assert Case.objects.count() == 2


def test_reading_the_form_is_not_rate_limited(client, settings):
    settings.MINSHENG_SUBMIT_RATE = "1/h"
    client.post("/appeal/new/", appeal())

    assert client.get("/appeal/new/").status_code == 200


def test_a_database_outage_answers_a_try_again_page_and_saves_nothing(client, monkeypatch):
    from django.db import OperationalError

    def outage(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    # The database goes away under the filing itself: the service raises what the driver does.
    monkeypatch.setattr("minsheng.intake.views.appeal_submit_online", outage)
    response = client.post("/appeal/new/", appeal())
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "服务暂时不可用" in page and "没有保存" in page
    english = client.post("/appeal/new/", appeal(), HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 503 and "was not saved" in english.content.decode()
    assert Case.objects.count() == 0
