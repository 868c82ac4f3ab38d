"""Staff pages of surveys: list, builder, publish, results with charts, export, poster."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.core.services import audit_record

from .. import rules, selectors, services
from ..choices import SurveyStatus, TargetScope
from ..exports import survey_answers_workbook
from ..forms import CrossTabForm, QuestionForm, SectionForm, SurveyForm
from ..models import Survey, SurveyAnswer, SurveyQuestion, SurveySection
from ..qr import qr_png
from .common import channels_staff, client_ip, forbidden, object_or_404, run, xlsx_response


def _survey(request, pk: int):
    return object_or_404(selectors.surveys_visible_to(request.user).select_related("owner_unit"), pk=pk)


def _public_url(request, survey) -> str:
    return request.build_absolute_uri(reverse("channels:survey_answer", args=[survey.token]))


@channels_staff
@require_GET
def survey_list(request):
    surveys = selectors.surveys_visible_to(request.user).select_related("owner_unit").annotate(response_count=Count("responses")).order_by("-created_at")
    return render(request, "channels/survey_list.html", {
        "surveys": surveys[:200], "can_build": rules.can_build_surveys(request.user), "active_tool": "surveys",
    })


def _survey_kwargs(form: SurveyForm) -> dict:
    c = form.cleaned_data
    return {"title": c["title"], "description": c["description"], "target_scope": c["target_scope"], "target_units": form.target_units,
            "answer_limit": c["answer_limit"], "closes_at": c["closes_at"]}


@channels_staff
@require_http_methods(["GET", "POST"])
def survey_create(request):
    if not rules.can_build_surveys(request.user):
        return forbidden(request, _("您的角色不能发起问卷。"))
    form = SurveyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        survey = run(request, lambda: services.survey_create(acting_user=request.user, owner_unit=form.cleaned_data["owner_unit"], **_survey_kwargs(form)))
        if survey:
            messages.success(request, _("问卷已创建，请添加题目。"))
            return redirect("channels:survey", pk=survey.pk)
    return render(request, "channels/survey_form.html", {"form": form, "active_tool": "surveys"})


@channels_staff
@require_http_methods(["GET", "POST"])
def survey_edit(request, pk: int):
    survey = _survey(request, pk)
    if not rules.can_manage(request.user, survey.owner_unit):
        return forbidden(request, _("您无权管理该问卷。"))
    initial = {
        "title": survey.title, "description": survey.description, "owner_unit": survey.owner_unit_id, "target_scope": survey.target_scope,
        "answer_limit": survey.answer_limit, "closes_at": survey.closes_at,
        "target_streets": survey.target_units.all() if survey.target_scope == TargetScope.STREETS else [],
        "target_communities": survey.target_units.all() if survey.target_scope == TargetScope.COMMUNITIES else [],
    }
    form = SurveyForm(request.POST or None, user=request.user, initial=initial)
    form.fields["owner_unit"].disabled = True
    if request.method == "POST" and form.is_valid():
        if run(request, lambda: services.survey_update(survey=survey, acting_user=request.user, **_survey_kwargs(form)), _("问卷设置已保存。")):
            return redirect("channels:survey", pk=survey.pk)
    return render(request, "channels/survey_form.html", {"form": form, "survey": survey, "active_tool": "surveys"})


@channels_staff
@require_GET
def survey_detail(request, pk: int):
    """The builder (draft) or the overview (published): sections, questions, settings, link."""
    survey = _survey(request, pk)
    can_manage = rules.can_manage(request.user, survey.owner_unit)
    structure = selectors.survey_structure(survey)
    numbers, n = {}, 0
    for _section, questions in structure:
        for q in questions:
            n += 1
            numbers[q.pk] = n
    return render(request, "channels/survey_detail.html", {
        "survey": survey, "structure": structure, "numbers": numbers, "can_manage": can_manage,
        "editable": can_manage and survey.status == SurveyStatus.DRAFT,
        "question_form": QuestionForm(survey=survey), "section_form": SectionForm(),
        "public_url": _public_url(request, survey), "responses": survey.responses.count(),
        "targets": survey.target_units.order_by("kind", "sort_order"), "active_tool": "surveys",
    })


def _manageable(request, survey):
    if not rules.can_manage(request.user, survey.owner_unit):
        return forbidden(request, _("您无权管理该问卷。"))
    return None


@channels_staff
@require_POST
def section_add(request, pk: int):
    survey = _survey(request, pk)
    if (refused := _manageable(request, survey)) is not None:
        return refused
    form = SectionForm(request.POST)
    if form.is_valid():
        run(request, lambda: services.survey_section_add(survey=survey, acting_user=request.user, **form.cleaned_data), _("已添加新的部分。"))
    return redirect("channels:survey", pk=survey.pk)


@channels_staff
@require_POST
def section_edit(request, pk: int):
    section = object_or_404(SurveySection.objects.filter(survey__in=selectors.surveys_visible_to(request.user)).select_related("survey"), pk=pk)
    if (refused := _manageable(request, section.survey)) is not None:
        return refused
    form = SectionForm(request.POST)
    if form.is_valid():
        run(request, lambda: services.survey_section_update(section=section, acting_user=request.user, **form.cleaned_data), _("已保存。"))
    return redirect("channels:survey", pk=section.survey_id)


@channels_staff
@require_POST
def section_delete(request, pk: int):
    section = object_or_404(SurveySection.objects.filter(survey__in=selectors.surveys_visible_to(request.user)).select_related("survey"), pk=pk)
    if (refused := _manageable(request, section.survey)) is not None:
        return refused
    run(request, lambda: services.survey_section_delete(section=section, acting_user=request.user), _("已删除该部分及其题目。"))
    return redirect("channels:survey", pk=section.survey_id)


@channels_staff
@require_POST
def question_add(request, pk: int):
    survey = _survey(request, pk)
    if (refused := _manageable(request, survey)) is not None:
        return refused
    form = QuestionForm(request.POST, survey=survey)
    if form.is_valid():
        section = survey.sections.filter(pk=form.cleaned_data["section"]).first()
        if section is None:
            messages.error(request, _("所选部分不存在。"))
        elif run(request, lambda: services.survey_question_add(survey=survey, section=section, acting_user=request.user, **form.service_kwargs()),
                 _("已添加题目。")):
            return redirect(f"{reverse('channels:survey', args=[survey.pk])}#add-question")
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''} {error}".strip())
    return redirect(f"{reverse('channels:survey', args=[survey.pk])}#add-question")


def _question(request, pk: int) -> SurveyQuestion:
    return object_or_404(SurveyQuestion.objects.filter(survey__in=selectors.surveys_visible_to(request.user)).select_related("survey", "section"), pk=pk)


@channels_staff
@require_http_methods(["GET", "POST"])
def question_edit(request, pk: int):
    question = _question(request, pk)
    survey = question.survey
    if (refused := _manageable(request, survey)) is not None:
        return refused
    form = QuestionForm(request.POST or None, survey=survey, question=question, initial=QuestionForm.initial_for(question))
    if request.method == "POST" and form.is_valid():
        if run(request, lambda: services.survey_question_update(question=question, acting_user=request.user, **form.service_kwargs()), _("题目已保存。")):
            return redirect(f"{reverse('channels:survey', args=[survey.pk])}#q{question.pk}")
    return render(request, "channels/question_form.html", {"form": form, "question": question, "survey": survey, "active_tool": "surveys"})


@channels_staff
@require_POST
def question_delete(request, pk: int):
    question = _question(request, pk)
    if (refused := _manageable(request, question.survey)) is not None:
        return refused
    run(request, lambda: services.survey_question_delete(question=question, acting_user=request.user), _("题目已删除。"))
    return redirect("channels:survey", pk=question.survey_id)


@channels_staff
@require_POST
def question_move(request, pk: int):
    question = _question(request, pk)
    if (refused := _manageable(request, question.survey)) is not None:
        return refused
    run(request, lambda: services.survey_question_move(question=question, acting_user=request.user, up=request.POST.get("direction") == "up"))
    return redirect(f"{reverse('channels:survey', args=[question.survey_id])}#q{question.pk}")


@channels_staff
@require_POST
def survey_transition(request, pk: int, action: str):
    survey = _survey(request, pk)
    if (refused := _manageable(request, survey)) is not None:
        return refused
    service, done = {
        "publish": (services.survey_publish, _("问卷已发布，可以分享链接或打印二维码海报。")),
        "close": (services.survey_close, _("问卷已结束收集。")),
        "reopen": (services.survey_reopen, _("问卷已重新开放。")),
    }[action]
    run(request, lambda: service(survey=survey, acting_user=request.user), done)
    return redirect("channels:survey", pk=survey.pk)


def _results_context(request, survey) -> dict:
    results = selectors.survey_results(survey)
    questions = selectors.crosstab_questions(survey)
    form = CrossTabForm(request.GET or None, questions=questions)
    chosen = None
    if questions:
        wanted = request.GET.get("question")
        chosen = next((q for q in questions if str(q.pk) == wanted), questions[0])
    crosstab = selectors.survey_crosstab(survey, chosen) if chosen else None
    return {
        "survey": survey, "results": results, "crosstab": crosstab, "crosstab_form": form, "chosen": chosen,
        "charts": {"questions": results.charts, "crosstab": crosstab.chart if crosstab else None},
        "can_convert": rules.can_manage(request.user, survey.owner_unit), "active_tool": "surveys",
    }


@channels_staff
@require_GET
def survey_results(request, pk: int):
    survey = _survey(request, pk)
    template = "channels/_survey_results.html" if request.htmx else "channels/survey_results.html"
    return render(request, template, _results_context(request, survey))


@channels_staff
@require_POST
def answer_to_appeal(request, pk: int):
    answer = object_or_404(
        SurveyAnswer.objects.filter(response__survey__in=selectors.surveys_visible_to(request.user))
        .select_related("response", "response__survey", "response__survey__owner_unit", "response__street", "response__community", "question"),
        pk=pk,
    )
    survey = answer.response.survey
    if (refused := _manageable(request, survey)) is not None:
        return refused
    case = run(request, lambda: services.survey_answer_to_appeal(answer=answer, acting_user=request.user))
    if case:
        messages.success(request, _("已转为诉求 %(code)s。") % {"code": case.tracking_code})
    return redirect(f"{reverse('channels:survey_results', args=[survey.pk])}#a{answer.pk}")


@channels_staff
@require_GET
def survey_export(request, pk: int):
    survey = _survey(request, pk)
    questions = selectors.survey_questions(survey)
    content = survey_answers_workbook(survey, questions, selectors.survey_responses_for_export(survey))
    audit_record(action="channels.survey_export", actor=request.user, target=f"survey:{survey.pk}", detail={"title": survey.title},
                 ip=client_ip(request))
    return xlsx_response(content, f"{survey.title}-原始答卷.xlsx")


@channels_staff
@require_GET
def survey_poster(request, pk: int):
    survey = _survey(request, pk)
    return render(request, "channels/poster.html", {
        "title": survey.title, "subtitle": survey.owner_unit.name, "intro": survey.description,
        "qr_url": reverse("channels:survey_qr", args=[survey.token]), "public_url": _public_url(request, survey),
        "closes_at": survey.closes_at, "call": _("扫码填写问卷"), "back": reverse("channels:survey", args=[survey.pk]),
    })


@require_GET
def survey_qr(request, token: str):
    """The QR code of a survey's public link (public: it is printed on the poster)."""
    survey = object_or_404(Survey.objects, token=token)
    response = HttpResponse(qr_png(_public_url(request, survey)), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response
