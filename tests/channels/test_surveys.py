"""Surveys (问卷调查): the builder, the public answer page, results, export, answer → appeal."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Case
from minsheng.channels import selectors, services
from minsheng.channels.models import SurveyAnswer, SurveyResponse
from tests.factories import unit

pytestmark = pytest.mark.django_db


def build(user, *, limit="device", scope="district", targets=(), closes_at=None, publish=True):
    """A survey with every question type, two sections and one skip rule."""
    survey = services.survey_create(acting_user=user, title="老旧小区改造意见征集", owner_unit=user.unit, target_scope=scope,
                                    target_units=targets, answer_limit=limit, closes_at=closes_at)
    first = survey.sections.get()
    first.title = "基本情况"
    first.save()
    q = {}
    q["single"] = services.survey_question_add(survey=survey, section=first, acting_user=user, kind="single", text="您住的小区有电梯吗？",
                                               required=True, options=["有", "没有"])
    q["multiple"] = services.survey_question_add(survey=survey, section=first, acting_user=user, kind="multiple", text="最希望改造哪些方面？",
                                                 options=["管网", "加装电梯", "停车", "绿化"])
    q["condition"] = services.survey_question_add(survey=survey, section=first, acting_user=user, kind="single", text="愿意分摊加装电梯费用吗？",
                                                  required=True, options=["愿意", "不愿意"], show_if_question=q["single"], show_if_option="没有")
    second = services.survey_section_add(survey=survey, acting_user=user, title="评价与建议")
    q["rating"] = services.survey_question_add(survey=survey, section=second, acting_user=user, kind="rating", text="对物业服务打分", required=True)
    q["number"] = services.survey_question_add(survey=survey, section=second, acting_user=user, kind="number", text="家里几口人？",
                                               min_value=1, max_value=20)
    q["date"] = services.survey_question_add(survey=survey, section=second, acting_user=user, kind="date", text="方便上门的日期")
    q["text"] = services.survey_question_add(survey=survey, section=second, acting_user=user, kind="text", text="还有什么问题要反映？")
    if publish:
        services.survey_publish(survey=survey, acting_user=user)
    survey.refresh_from_db()
    return survey, q


def answers(q, **over):
    data = {
        f"q{q['single'].pk}": "没有", f"q{q['multiple'].pk}": ["管网", "加装电梯"], f"q{q['condition'].pk}": "愿意",
        f"q{q['rating'].pk}": "4", f"q{q['number'].pk}": "3", f"q{q['date'].pk}": "2025-06-01",
        f"q{q['text'].pk}": "3号楼下水道经常堵，污水冒到路面上，希望彻底修一修", "community": unit("community:JSL03").pk, "phone": "",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------- builder


def test_the_builder_keeps_sections_and_questions_in_order(users):
    survey, q = build(users["street"], publish=False)
    structure = selectors.survey_structure(survey)
    assert [s.title for s, _ in structure] == ["基本情况", "评价与建议"]
    assert [x.kind for x in structure[0][1]] == ["single", "multiple", "single"]
    assert [x.kind for x in structure[1][1]] == ["rating", "number", "date", "text"]


def test_a_choice_question_needs_two_options(users):
    survey, _q = build(users["admin"], publish=False)
    with pytest.raises(InvalidInput):
        services.survey_question_add(survey=survey, section=survey.sections.first(), acting_user=users["admin"], kind="single", text="只有一个选项", options=["是"])


def test_skip_logic_may_only_point_backwards(users):
    survey, q = build(users["admin"], publish=False)
    with pytest.raises(InvalidInput):
        services.survey_question_update(question=q["single"], acting_user=users["admin"], kind="single", text=q["single"].text,
                                        options=["有", "没有"], show_if_question=q["condition"], show_if_option="愿意")


def test_moving_a_question_above_its_condition_drops_the_condition(users):
    survey, q = build(users["admin"], publish=False)
    services.survey_question_move(question=q["condition"], acting_user=users["admin"], up=True)
    services.survey_question_move(question=q["condition"], acting_user=users["admin"], up=True)
    q["condition"].refresh_from_db()
    assert q["condition"].position == 1 and q["condition"].show_if_question is None


def test_a_published_survey_cannot_change_its_questions(users):
    survey, q = build(users["admin"])
    with pytest.raises(InvalidInput):
        services.survey_question_delete(question=q["text"], acting_user=users["admin"])


def test_an_empty_survey_cannot_be_published(users):
    survey = services.survey_create(acting_user=users["admin"], title="空问卷", owner_unit=users["admin"].unit)
    with pytest.raises(InvalidInput):
        services.survey_publish(survey=survey, acting_user=users["admin"])


def test_the_builder_pages_work_through_the_browser_forms(login, users):
    client = login(users["community"])
    response = client.post(reverse("channels:survey_create"), {
        "title": "社区停车问题调查", "owner_unit": users["community"].unit_id, "target_scope": "communities",
        "target_communities": [unit("community:JSL03").pk], "answer_limit": "phone", "closes_at": "",
    })
    survey = users["community"].unit and selectors.surveys_visible_to(users["community"]).get()
    assert response.status_code == 302 and response["Location"] == reverse("channels:survey", args=[survey.pk])
    section = survey.sections.get()
    response = client.post(reverse("channels:question_add", args=[survey.pk]), {
        "section": section.pk, "kind": "single", "text": "晚上停车难吗？", "required": "on", "options": "很难\n一般\n不难", "condition": "",
    })
    assert response.status_code == 302
    question = survey.questions.get()
    assert question.options == ["很难", "一般", "不难"] and question.required
    response = client.post(reverse("channels:question_add", args=[survey.pk]), {
        "section": section.pk, "kind": "text", "text": "难在哪里？", "options": "", "condition": f"{question.pk}:0",
    })
    follow = survey.questions.get(kind="text")
    assert follow.show_if_question == question and follow.show_if_option == "很难"
    page = client.get(reverse("channels:survey", args=[survey.pk])).content.decode()
    assert "晚上停车难吗？" in page and "仅当 Q1 选择“很难”时显示" in page
    client.post(reverse("channels:survey_publish", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.status == "published" and survey.target_units.get() == unit("community:JSL03")


# ---------------------------------------------------------------- answering


def test_a_resident_answers_on_the_public_page_without_logging_in(client, users):
    survey, q = build(users["admin"])
    page = client.get(f"/s/{survey.token}/")
    html = page.content.decode()
    assert page.status_code == 200 and "老旧小区改造意见征集" in html
    assert f'data-show-if="{q["single"].pk}"' in html and 'data-show-value="没有"' in html
    response = client.post(f"/s/{survey.token}/", answers(q))
    assert response.status_code == 302 and response["Location"] == f"/s/{survey.token}/done/"
    saved = SurveyResponse.objects.get()
    assert saved.community == unit("community:JSL03") and saved.street == unit("street:JSL")
    by_kind = {a.question.kind + ("-c" if a.question == q["condition"] else ""): a for a in saved.answers.select_related("question")}
    assert by_kind["single"].choices == ["没有"] and by_kind["multiple"].choices == ["管网", "加装电梯"]
    assert by_kind["single-c"].choices == ["愿意"]
    assert by_kind["rating"].number_value == 4 and by_kind["number"].number_value == 3
    assert by_kind["date"].date_value == dt.date(2025, 6, 1)


def test_a_skipped_question_is_not_required_and_not_stored(client, users):
    survey, q = build(users["admin"])
    response = client.post(f"/s/{survey.token}/", answers(q, **{f"q{q['single'].pk}": "有", f"q{q['condition'].pk}": "愿意"}))
    assert response.status_code == 302
    assert not SurveyAnswer.objects.filter(question=q["condition"]).exists()


def test_a_shown_required_question_must_be_answered(client, users):
    survey, q = build(users["admin"])
    response = client.post(f"/s/{survey.token}/", answers(q, **{f"q{q['condition'].pk}": None, f"q{q['rating'].pk}": None}))
    assert response.status_code == 400
    assert response.content.decode().count("此题必答") == 2
    assert not SurveyResponse.objects.exists()


def test_a_number_outside_its_range_is_refused(client, users):
    survey, q = build(users["admin"])
    response = client.post(f"/s/{survey.token}/", answers(q, **{f"q{q['number'].pk}": "99"}))
    assert response.status_code == 400 and not SurveyResponse.objects.exists()


def test_one_answer_per_device(client, users):
    survey, q = build(users["admin"], limit="device")
    client.get(f"/s/{survey.token}/")  # the page sets the device cookie
    assert client.post(f"/s/{survey.token}/", answers(q)).status_code == 302
    again = client.post(f"/s/{survey.token}/", answers(q))
    assert "已经填写过" in again.content.decode()
    assert SurveyResponse.objects.count() == 1
    assert "已经填写过" in client.get(f"/s/{survey.token}/").content.decode()


def test_one_answer_per_phone(client, users):
    from django.test import Client

    survey, q = build(users["admin"], limit="phone")
    assert client.post(f"/s/{survey.token}/", answers(q, phone="")).status_code == 400
    assert client.post(f"/s/{survey.token}/", answers(q, phone="138 1234 5678")).status_code == 302
    other_device = Client()
    response = other_device.post(f"/s/{survey.token}/", answers(q, phone="13812345678"))
    assert "已经填写过" in response.content.decode() and SurveyResponse.objects.count() == 1
    assert other_device.post(f"/s/{survey.token}/", answers(q, phone="13912345678")).status_code == 302


def test_unlimited_surveys_take_several_answers_from_one_device(client, users):
    survey, q = build(users["admin"], limit="none")
    for _ in range(3):
        assert client.post(f"/s/{survey.token}/", answers(q)).status_code == 302
    assert SurveyResponse.objects.count() == 3


def test_the_closing_date_stops_answers(client, users):
    import time_machine

    survey, q = build(users["admin"], closes_at=timezone.now() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert client.get(f"/s/{survey.token}/").status_code == 410
        assert client.post(f"/s/{survey.token}/", answers(q)).status_code == 410
    assert not SurveyResponse.objects.exists()


def test_a_draft_survey_is_not_public(client, users):
    survey, _q = build(users["admin"], publish=False)
    assert client.get(f"/s/{survey.token}/").status_code == 404


def test_a_survey_for_some_streets_offers_only_their_communities(client, users):
    survey, q = build(users["admin"], scope="streets", targets=[unit("street:JSL")])
    html = client.get(f"/s/{survey.token}/").content.decode()
    assert unit("community:JSL03").name in html and unit("community:LSZ01").name not in html
    response = client.post(f"/s/{survey.token}/", answers(q, community=unit("community:LSZ01").pk))
    assert response.status_code == 400


def test_the_public_page_is_rate_limited(client, users, settings):
    settings.MINSHENG_SURVEY_RATE = "2/h"
    survey, q = build(users["admin"], limit="none")
    codes = [client.post(f"/s/{survey.token}/", answers(q)).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


# ---------------------------------------------------------------- results


def answer_many(survey, q):
    plan = [("community:JSL03", "没有", "愿意", 5), ("community:JSL03", "有", None, 3), ("community:LSZ01", "没有", "不愿意", 1)]
    for community, lift, pay, rating in plan:
        values = {q["single"].pk: [lift], q["rating"].pk: rating, q["text"].pk: f"{unit(community).name}的路灯坏了很久没人修"}
        if pay:
            values[q["condition"].pk] = [pay]
        services.survey_response_submit(survey=survey, answers=values, community=unit(community))


def test_results_count_every_question_type(users):
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    results = {r.question.pk: r for r in selectors.survey_results(survey).questions}
    assert dict(results[q["single"].pk].counts) == {"有": 1, "没有": 2}
    assert dict(results[q["rating"].pk].counts) == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}
    assert results[q["rating"].pk].average == 3.0
    assert results[q["text"].pk].text_total == 3


def test_the_crosstab_splits_answers_by_street(users):
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    table = selectors.survey_crosstab(survey, q["single"])
    rows = {name: counts for name, counts, _total in table.rows}
    assert rows[unit("street:JSL").name] == [1, 1] and rows[unit("street:LSZ").name] == [0, 1]


def test_the_results_page_carries_chart_data_and_polls(login, users):
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    html = login(users["admin"]).get(reverse("channels:survey_results", args=[survey.pk])).content.decode()
    assert 'id="survey-charts" type="application/json"' in html and 'hx-trigger="every 20s"' in html
    assert "vendor/echarts.min.js" in html and 'data-chart="crosstab"' in html
    assert "<script>" not in html  # CSP: no inline script


def test_the_export_holds_one_row_per_response_with_typed_cells(login, users):
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    response = login(users["admin"]).get(reverse("channels:survey_export", args=[survey.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[0][5].startswith("Q1.")
    assert isinstance(rows[1][1], dt.datetime)
    header = list(rows[0])
    rating_col = next(i for i, h in enumerate(header) if h and "打分" in h)
    assert rows[1][rating_col] == 5


def test_a_text_answer_becomes_an_appeal_in_one_click(login, users, django_capture_on_commit_callbacks, monkeypatch):
    routed = []
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", routed.append)
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    answer = SurveyAnswer.objects.filter(question=q["text"]).select_related("response").first()
    client = login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("channels:answer_to_appeal", args=[answer.pk]))
    assert response.status_code == 302
    answer.refresh_from_db()
    case = answer.case
    assert (case.channel, case.source_type, case.source_id) == ("survey", "survey_answer", str(answer.pk))
    assert case.text == answer.text_value and case.community == answer.response.community
    assert routed == [case]
    client.post(reverse("channels:answer_to_appeal", args=[answer.pk]))
    assert Case.objects.filter(source_type="survey_answer").count() == 1
    html = client.get(reverse("channels:survey_results", args=[survey.pk])).content.decode()
    assert case.tracking_code in html


def test_only_text_answers_become_appeals(users):
    survey, q = build(users["admin"], limit="none")
    answer_many(survey, q)
    choice = SurveyAnswer.objects.filter(question=q["single"]).first()
    with pytest.raises(InvalidInput):
        services.survey_answer_to_appeal(answer=choice, acting_user=users["admin"])


def test_the_qr_code_is_a_png_of_the_public_link(client, users):
    survey, _q = build(users["admin"])
    response = client.get(f"/s/{survey.token}/qr.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png" and response.content[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(response.content))
    assert image.size[0] >= 200


def test_the_poster_is_a_printable_page_with_the_qr_code(login, users):
    survey, _q = build(users["admin"])
    html = login(users["admin"]).get(reverse("channels:survey_poster", args=[survey.pk])).content.decode()
    assert f"/s/{survey.token}/qr.png" in html and "data-print" in html and "扫码填写问卷" in html
    assert not re.search(r"<script>|style=", html)


def test_a_community_worker_cannot_answer_for_another_community_s_survey(users):
    survey, _q = build(users["other_community"])
    with pytest.raises(ActionNotAllowed):
        services.survey_close(survey=survey, acting_user=users["community"])
