import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_admin_login_page_renders_in_chromium(new_page, committed_district, shot):
    page = new_page()
    page.goto("/admin/login/")
    assert page.locator("input[name=username]").count() == 1
    assert shot(page, "admin-login").exists()
