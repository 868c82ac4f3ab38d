"""Uploaded files — a case's photos and documents, forum and field-visit photos — are answered
only by permission-checked views (core/protected_media.py): no route serves the media folder,
another unit's file is a 404 like an unknown id, an internal attachment never reaches the
resident, and behind nginx the view hands the sending over with X-Accel-Redirect.

Every role × each of these URLs is in the sweep's table (test_url_sweep.py); this module checks
what the sweep does not look at: the bytes, the headers, the pages' links."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import isolated
from .sweep import outcome

#: URL name → the world's object it serves.
FILE_URLS = {
    "desk:case_attachment": "attachment",
    "channels:forum_photo": "forum_photo",
    "channels:visit_photo": "visit_photo",
}


def _url(name: str, record) -> str:
    return reverse(name, args=[record.pk])


def _body(response) -> bytes:
    # Reading a streamed answer to its end closes it the way the test client expects.
    return b"".join(response.streaming_content) if response.streaming else response.content


def _get(world, role: str, url: str):
    return isolated(lambda: world.clients[role].get(url))


def _stored_bytes(record) -> bytes:
    with record.file.storage.open(record.file.name, "rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- no public address


@pytest.mark.parametrize("kind", ["attachment", "internal_attachment", "forum_photo", "visit_photo"])
def test_no_route_serves_the_media_folder(db, world, kind):
    """Not even to the administrator: the stored path (64 random bits in the name) is no
    address, and folders are not listed."""
    record = world.own(kind)
    name = record.file.name
    assert len(record.stored_name.split(".")[0]) >= 16
    assert Path(record.file.storage.path(name)).is_file()  # the file is there; only the route is not
    for role in ("anon", "admin", "community"):
        for path in (f"/media/{name}", f"/media/{name.rsplit('/', 1)[0]}/", "/media/"):
            response = _get(world, role, path)
            assert response.status_code == 404, (role, path, response.status_code)
            assert _stored_bytes(record)[:64] not in response.content


def test_a_hostile_upload_name_stays_out_of_the_stored_path(db, world):
    from minsheng.cases.services import case_attach

    from .test_payloads import jpeg

    attachment = case_attach(case=world.own("case"), content=jpeg(), filename="../../etc/passwd.jpg", content_type="image/jpeg")
    assert "passwd" not in attachment.file.name and ".." not in attachment.file.name
    assert _body(_get(world, "street", _url("desk:case_attachment", attachment))) == _stored_bytes(attachment)


# ---------------------------------------------------------------- who gets the bytes


@pytest.mark.parametrize("name", sorted(FILE_URLS))
def test_staff_who_see_the_record_get_the_file_with_private_headers(db, world, name):
    record = world.own(FILE_URLS[name])
    response = _get(world, "community", _url(name, record))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;") and record.stored_name in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert "X-Accel-Redirect" not in response
    assert _body(response) == _stored_bytes(record)


@pytest.mark.parametrize("name", sorted(FILE_URLS))
@pytest.mark.parametrize("role", ["street", "community", "dept"])
def test_another_units_file_is_not_found_rather_than_forbidden(db, world, name, role):
    """A 404, the same as an id nobody has, so ids cannot be probed for existence."""
    response = _get(world, role, _url(name, world.foreign(FILE_URLS[name])))
    assert response.status_code == 404
    assert _stored_bytes(world.foreign(FILE_URLS[name]))[:64] not in _body(response)


@pytest.mark.parametrize("name", sorted(FILE_URLS))
def test_anonymous_is_sent_to_log_in(db, world, name):
    anonymous = Client()
    for scope in ("own", "foreign"):
        response = isolated(lambda: anonymous.get(_url(name, world.objects[scope][FILE_URLS[name]])))
        assert outcome(response) == "login"


def test_an_internal_attachment_is_for_staff_who_see_the_case_never_the_resident(db, world):
    internal = world.own("internal_attachment")
    url = _url("desk:case_attachment", internal)
    # The resident's browser has proved the appeal is theirs (conftest): its tracking page
    # opens, and still neither links the internal document nor gets it.
    tracking_page = _get(world, "anon", reverse("intake:case", args=[world.own("case").tracking_code]))
    assert tracking_page.status_code == 200
    assert url not in tracking_page.content.decode() and internal.stored_name not in tracking_page.content.decode()
    assert outcome(_get(world, "anon", url)) == "login"
    # Staff who see the case get it, as a download (not rendered in the site's origin).
    response = _get(world, "street", url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert _body(response) == _stored_bytes(internal)
    assert _get(world, "dept", url).status_code == 404  # a department the case is not assigned to


def test_a_file_missing_on_disk_is_not_found(db, world):
    from minsheng.cases.services import case_attach

    from .test_payloads import jpeg

    attachment = case_attach(case=world.own("case"), content=jpeg(), filename="x.jpg", content_type="image/jpeg")
    attachment.file.storage.delete(attachment.file.name)
    assert _get(world, "admin", _url("desk:case_attachment", attachment)).status_code == 404


# ---------------------------------------------------------------- behind nginx


@pytest.mark.parametrize("name", sorted(FILE_URLS))
def test_behind_nginx_the_view_hands_the_sending_to_an_internal_location(db, world, settings, name):
    settings.MINSHENG_MEDIA_ACCEL_PREFIX = "/protected-media/"
    record = world.own(FILE_URLS[name])
    response = _get(world, "street", _url(name, record))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{record.file.name}"
    assert response["Content-Type"] == "image/jpeg" and response["Content-Disposition"].startswith("inline;")
    assert response["Cache-Control"].startswith("private")
    assert _body(response) == b""
    refused = _get(world, "street", _url(name, world.foreign(FILE_URLS[name])))
    assert refused.status_code == 404 and not refused.has_header("X-Accel-Redirect")
    assert outcome(isolated(lambda: Client().get(_url(name, record)))) == "login"


# ---------------------------------------------------------------- the pages link the views


def test_pages_show_files_through_the_permission_checked_views(db, world):
    pages = {
        reverse("desk:case", args=[world.own("case").pk]): [_url("desk:case_attachment", world.own("attachment")),
                                                            _url("desk:case_attachment", world.own("internal_attachment"))],
        reverse("channels:forum", args=[world.own("forum").pk]): [_url("channels:forum_photo", world.own("forum_photo"))],
        reverse("channels:forum_ledger", args=[world.own("forum").pk]): [_url("channels:forum_photo", world.own("forum_photo"))],
        reverse("channels:visit", args=[world.own("visit").pk]): [_url("channels:visit_photo", world.own("visit_photo"))],
    }
    for page, links in pages.items():
        response = _get(world, "street", page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for link in links:
            assert f'src="{link}"' in html or f'href="{link}"' in html, (page, link)
        assert "/media/" not in html, page
