"""Login (with lockout), logout, the language switch, and the notification inbox."""

from __future__ import annotations

from django.urls import reverse

from minsheng.core.models import Notification
from tests.factories import PASSWORD, unit


def test_the_login_page_renders_in_the_workbench_style(client):
    html = client.get(reverse("login")).content.decode()
    assert "民生诉求工作台" in html and 'name="username"' in html and "desk.css" in html


def test_a_user_logs_in_and_lands_on_the_workbench(client, users):
    response = client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("desk:home")


def test_five_failed_logins_lock_the_account(client, users):
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "dispatcher", "password": "wrong-password"})
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "账号已暂时锁定" in html and "30 分钟" in html
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not(client, users):
    for _ in range(4):
        assert client.post(reverse("login"), {"username": "dispatcher", "password": "wrong-password"}).status_code == 200
    assert client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD}).status_code == 302


def test_logout_is_a_post_form_in_the_user_menu(client, users):
    client.force_login(users["street"])
    html = client.get(reverse("desk:queue", args=["all"])).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("desk:home")).status_code == 302


def test_the_language_switch_posts_to_set_language(client, users):
    client.force_login(users["street"])
    html = client.get(reverse("desk:queue", args=["all"])).content.decode()
    assert f'action="{reverse("set_language")}"' in html and 'name="language" value="en"' in html
    client.post(reverse("set_language"), {"language": "en", "next": "/desk/queue/all/"})
    english = client.get(reverse("desk:queue", args=["all"])).content.decode()
    assert '<html lang="en">' in english
    assert "All cases" in english and "Export to Excel" in english


def notify(unit_obj, text="新派单：测试", link="/desk/") -> Notification:
    return Notification.objects.create(unit=unit_obj, text=text, link=link, source_key=f"t:{text}:{unit_obj.pk}")


def test_the_unread_count_is_shown_and_opening_marks_read(client, users):
    first = notify(unit("street:JSL"), "新派单：一")
    notify(unit("street:JSL"), "新派单：二")
    notify(unit("street:LSZ"), "别的街道的通知")
    client.force_login(users["street"])
    html = client.get(reverse("desk:notifications")).content.decode()
    assert "新派单：一" in html and "别的街道的通知" not in html
    assert '<span class="pill alert">2</span>' in html
    first.refresh_from_db()
    assert first.read_at is None  # reading the list changes nothing
    response = client.post(reverse("desk:notification_open", args=[first.pk]))
    assert response.status_code == 302 and response.url == "/desk/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert '<span class="pill alert">1</span>' in client.get(reverse("desk:notifications")).content.decode()


def test_another_units_notification_cannot_be_opened(client, users):
    other = notify(unit("street:LSZ"))
    client.force_login(users["street"])
    assert client.post(reverse("desk:notification_open", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_an_offsite_link_is_not_followed(client, users):
    n = notify(unit("street:JSL"), link="https://evil.example/")
    client.force_login(users["street"])
    assert client.post(reverse("desk:notification_open", args=[n.pk])).url == reverse("desk:notifications")


def test_mark_all_read(client, users):
    notify(unit("street:JSL"), "一")
    notify(unit("street:JSL"), "二")
    client.force_login(users["street"])
    client.post(reverse("desk:notifications_read_all"))
    assert not Notification.objects.filter(unit=unit("street:JSL"), read_at__isnull=True).exists()
