"""Photos in a real browser (Chromium, Content-Security-Policy enforced): the case page and the
forum page show their photos through the permission-checked views, while the same address
gives another unit's handler a 404 and a browser that is not signed in the login page.
Screenshots go to ./test-artifacts/."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from minsheng.cases.choices import CaseState
from tests.e2e.conftest import login
from tests.factories import PASSWORD, CaseMaker, make_role_users, unit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (60, 140, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def world(committed_district, settings):
    from django.core.cache import cache

    from minsheng.cases.services import case_attach
    from minsheng.channels.services import forum_record
    from minsheng.intake.services import Photo

    cache.clear()
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
    users = make_role_users()
    case = CaseMaker(users).make(CaseState.IN_PROGRESS, unit_key="street:JSL", community_key="community:JSL03")
    attachment = case_attach(case=case, content=_jpeg(), filename="photo.jpg", content_type="image/jpeg")
    forum = forum_record(acting_user=users["admin"], kind="community", title="居民议事会", held_on=timezone.localdate(),
                         place="会议室", host_unit=unit("community:JSL03"), photos=[Photo(content=_jpeg(), content_type="image/jpeg")])
    return {"users": users, "case": case, "attachment": attachment, "forum": forum, "forum_photo": forum.photos.get()}


def _natural_width(page, src: str) -> int:
    """The width the browser decoded the <img src=…> at, once it has loaded (lazy images are
    scrolled into view first); a refused or broken image has none."""
    image = page.locator(f'img[src="{src}"]')
    assert image.count() == 1, src
    image.scroll_into_view_if_needed()
    handle = image.element_handle()
    page.wait_for_function("img => img.complete", arg=handle)
    return page.evaluate("img => img.naturalWidth", handle)


def test_staff_see_the_photos_and_nobody_else_gets_them(new_page, world, shot):
    users = world["users"]
    desk = new_page()
    problems: list[str] = []
    desk.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    login(desk, users["community"].username, PASSWORD)

    attachment_url = reverse("desk:case_attachment", args=[world["attachment"].pk])
    desk.goto(reverse("desk:case", args=[world["case"].pk]))
    assert _natural_width(desk, attachment_url) == 320
    shot(desk, "protected-photo-case")

    photo_url = reverse("channels:forum_photo", args=[world["forum_photo"].pk])
    desk.goto(reverse("channels:forum", args=[world["forum"].pk]))
    assert _natural_width(desk, photo_url) == 320
    assert problems == []

    other = new_page()
    login(other, users["other_community"].username, PASSWORD)
    for url in (attachment_url, photo_url):
        assert other.goto(url).status == 404

    stranger = new_page()
    for url in (attachment_url, photo_url):
        stranger.goto(url)
        assert "/accounts/login/" in stranger.url
