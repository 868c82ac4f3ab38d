"""The residents' pages of the channels (no login): answering a survey, dropping a note in a
suggestion box. Phone first; they reuse the H5 layout of the appeal pages."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from minsheng.cases.errors import InvalidInput

from .. import selectors, services
from ..choices import AnswerLimit, SurveyStatus
from ..forms import NoteForm, SurveyAnswerForm, form_token_new
from ..models import SuggestionBox, Survey, SurveyResponse
from ..qr import qr_png
from ..services.surveys import AlreadyAnswered, SurveyClosed, answer_limit_key
from ..throttle import rate_limited
from .common import object_or_404

DEVICE_COOKIE = "ms_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


def _device(request) -> tuple[str, bool]:
    """This browser's device token (a random cookie), and whether it is new."""
    token = request.COOKIES.get(DEVICE_COOKIE, "")
    if 20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum():
        return token, False
    return secrets.token_urlsafe(24), True


def _with_device(response, token: str, new: bool):
    if new:
        response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)
    return response


def _answered_here(survey: Survey, device: str) -> bool:
    if survey.answer_limit != AnswerLimit.DEVICE:
        return False
    return SurveyResponse.objects.filter(survey=survey, limit_key=answer_limit_key(survey, phone="", device=device)).exists()


@require_http_methods(["GET", "POST"])
@rate_limited("channels.survey")
def survey_answer(request, token: str):
    survey = object_or_404(Survey.objects.exclude(status=SurveyStatus.DRAFT).select_related("owner_unit"), token=token)
    device, new = _device(request)
    if not survey.is_open():
        return _with_device(render(request, "channels/public/survey_closed.html", {"survey": survey}, status=410), device, new)
    if _answered_here(survey, device):
        return _with_device(render(request, "channels/public/survey_done.html", {"survey": survey, "again": True}), device, new)
    questions = selectors.survey_questions(survey)
    form = SurveyAnswerForm(request.POST or None, survey=survey, questions=questions, communities=selectors.target_communities(survey))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.survey_response_submit(survey=survey, answers=form.answers, community=form.cleaned_data.get("community"),
                                                phone=form.cleaned_data.get("phone", ""), device=device)
            except AlreadyAnswered:
                return _with_device(render(request, "channels/public/survey_done.html", {"survey": survey, "again": True}), device, new)
            except SurveyClosed:
                return render(request, "channels/public/survey_closed.html", {"survey": survey}, status=410)
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                return _with_device(redirect("channels:survey_done", token=survey.token), device, new)
        status = 400
    context = {"survey": survey, "form": form, "sections": _sections(form, questions)}
    return _with_device(render(request, "channels/public/survey_answer.html", context, status=status), device, new)


def _sections(form, questions):
    """[(section, [(question, bound field, number), ...]), ...] in order."""
    sections, current = [], None
    for number, q in enumerate(questions, start=1):
        if current is None or current[0].pk != q.section_id:
            current = (q.section, [])
            sections.append(current)
        current[1].append((q, form[f"q{q.pk}"], number))
    return sections


@require_GET
def survey_done(request, token: str):
    survey = object_or_404(Survey.objects.exclude(status=SurveyStatus.DRAFT), token=token)
    return render(request, "channels/public/survey_done.html", {"survey": survey})


# ---------------------------------------------------------------- suggestion boxes


def _box(token: str) -> SuggestionBox:
    return object_or_404(SuggestionBox.objects.select_related("unit", "unit__parent"), token=token)


@require_http_methods(["GET", "POST"])
@rate_limited("channels.note")
def box_note(request, token: str):
    box = _box(token)
    if not box.active:
        return render(request, "channels/public/box_closed.html", {"box": box}, status=410)
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            sent = request.session.get("box_tokens", [])
            if form.cleaned_data["token"] not in sent:  # the same form sent twice files one note
                c = form.cleaned_data
                try:
                    services.note_submit_online(box=box, text=c["text"], address=c["address"], name=c["name"], phone=c["phone"],
                                                is_anonymous=c["is_anonymous"])
                except InvalidInput as exc:
                    form.add_error(None, exc.message)
                    return render(request, "channels/public/box_note.html", {"box": box, "form": form}, status=400)
                request.session["box_tokens"] = [*sent[-20:], form.cleaned_data["token"]]
            return redirect("channels:box_done", token=box.token)
        return render(request, "channels/public/box_note.html", {"box": box, "form": form}, status=400)
    return render(request, "channels/public/box_note.html", {"box": box, "form": NoteForm(initial={"token": form_token_new()})})


@require_GET
def box_done(request, token: str):
    return render(request, "channels/public/box_done.html", {"box": _box(token)})


@require_GET
def box_qr(request, token: str):
    box = _box(token)
    url = request.build_absolute_uri(reverse("channels:box_note", args=[box.token]))
    response = HttpResponse(qr_png(url), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


__all__ = ["box_done", "box_note", "box_qr", "survey_answer", "survey_done"]
