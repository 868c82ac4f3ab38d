"""A resident on a phone: report a problem with a photo, then track it — in Chromium, with
the Content-Security-Policy enforced. Screenshots go to ./test-artifacts/."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from minsheng.cases.models import Case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    from django.core.cache import cache

    cache.clear()
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01  # the story here ends before dispatch


def _console_problems(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _photo_file(tmp_path):
    path = tmp_path / "street.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 120, 90)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_resident_reports_a_problem_and_tracks_it_on_a_phone(new_page, committed_district, shot, tmp_path):
    page = new_page(mobile=True)
    problems = _console_problems(page)

    page.goto("/")
    assert _fits_the_screen(page)
    shot(page, "h5-home")
    page.click("text=我要反映")

    page.fill("textarea[name=text]", "碧沙岗公园南门人行道地砖松动，老人容易绊倒")
    page.locator("input[name=address]").press_sequentially("碧沙", delay=50)
    page.locator(".suggestion").first.wait_for()
    shot(page, "h5-submit-suggestions")
    page.locator(".suggestion").first.click()
    assert page.input_value("input[name=address]").startswith("碧沙岗")
    page.select_option("select[name=category]", "CGM.SZSS")
    page.set_input_files("input[name=photos]", str(_photo_file(tmp_path)))
    page.fill("input[name=reporter_phone]", "13912345678")
    assert _fits_the_screen(page)
    shot(page, "h5-submit-filled")
    page.click("button[type=submit] >> text=提交诉求")

    page.wait_for_url("**/done/")
    case = Case.objects.get()
    assert page.locator(".tracking-code").inner_text() == case.tracking_code
    assert case.attachments.count() == 1
    shot(page, "h5-submitted")

    page.click("text=查看办理进度")
    page.wait_for_url(f"**/track/{case.tracking_code}/")
    assert "已提交，等待受理" in page.content()
    assert _fits_the_screen(page)
    shot(page, "h5-case")
    assert problems == []


def test_a_resident_switches_to_english(new_page, committed_district, shot):
    page = new_page(mobile=True)
    problems = _console_problems(page)

    page.goto("/track/")
    page.click("button[name=language][value=en]")

    page.wait_for_selector("text=Track an appeal")
    assert page.url.endswith("/track/")
    assert _fits_the_screen(page)
    shot(page, "h5-track-english")
    assert problems == []


def test_a_resident_rates_the_answer_on_a_phone(new_page, committed_district, users, cases, shot):
    from minsheng.cases.choices import CaseState

    case = cases.make(CaseState.AWAITING_FEEDBACK)
    page = new_page(mobile=True)
    problems = _console_problems(page)

    page.goto(f"/track/?code={case.tracking_code}")
    page.fill("input[name=phone_last4]", case.phone_last4)
    page.click("button[type=submit] >> text=查询")
    page.wait_for_url(f"**/track/{case.tracking_code}/")
    assert _fits_the_screen(page)
    shot(page, "h5-case-awaiting-feedback")

    page.click("label.choice >> text=基本满意")
    page.fill("textarea[name=comment]", "清运及时，希望保持")
    page.click("button[type=submit] >> text=提交评价")

    page.wait_for_selector("text=感谢您的评价")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    shot(page, "h5-case-closed")
    assert problems == []


def test_mistakes_are_shown_next_to_the_fields_on_a_phone(new_page, committed_district, shot):
    page = new_page(mobile=True)

    page.goto("/appeal/new/")
    page.fill("textarea[name=text]", "路灯坏了很久")
    page.fill("input[name=reporter_phone]", "12345")
    page.click("button[type=submit] >> text=提交诉求")

    page.wait_for_selector(".form-errors")
    assert page.locator("#id_reporter_phone_error1").is_visible()
    assert page.input_value("textarea[name=text]") == "路灯坏了很久"
    assert _fits_the_screen(page)
    shot(page, "h5-submit-errors")
