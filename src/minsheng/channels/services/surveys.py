"""Surveys (问卷调查): building, publishing, answering, and turning a text answer into an
appeal."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case
from minsheng.core.choices import UnitKind
from minsheng.core.crypto import blind_index
from minsheng.core.models import Unit, User

from .. import rules
from ..choices import CHOICE_KINDS, AnswerLimit, QuestionKind, SurveyStatus, TargetScope
from ..models import SOURCE_SURVEY_ANSWER, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse, SurveySection
from .common import appeal_from_record, require

MAX_OPTIONS = 30
MAX_QUESTIONS = 200


class AlreadyAnswered(InvalidInput):
    """This device or phone has answered the survey already."""

    code = "already_answered"


class SurveyClosed(InvalidInput):
    code = "survey_closed"


def _check_manage(user: User, survey: Survey) -> None:
    require(rules.can_manage(user, survey.owner_unit), "您无权管理该问卷。")


def _check_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise InvalidInput("问卷已发布，题目不能再修改（可修改标题、说明和截止时间）。")


def _check_target(target_scope: str, target_units: Sequence[Unit]) -> list[Unit]:
    if target_scope not in TargetScope.values:
        raise InvalidInput("调查范围选择有误。")
    units = list(target_units)
    if target_scope == TargetScope.DISTRICT:
        return []
    wanted = UnitKind.STREET if target_scope == TargetScope.STREETS else UnitKind.COMMUNITY
    if not units:
        raise InvalidInput("请选择调查范围内的街道或社区。")
    if any(u.kind != wanted for u in units):
        raise InvalidInput("调查范围与所选单位不一致。")
    return units


def _survey_fields(*, title: str, description: str, answer_limit: str, closes_at: dt.datetime | None) -> dict:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("请填写问卷标题。")
    if answer_limit not in AnswerLimit.values:
        raise InvalidInput("答题限制选择有误。")
    return {"title": title[:120], "description": (description or "").strip(), "answer_limit": answer_limit, "closes_at": closes_at}


@transaction.atomic
def survey_create(
    *,
    acting_user: User,
    title: str,
    owner_unit: Unit,
    description: str = "",
    target_scope: str = TargetScope.DISTRICT,
    target_units: Sequence[Unit] = (),
    answer_limit: str = AnswerLimit.DEVICE,
    closes_at: dt.datetime | None = None,
) -> Survey:
    """A new survey in draft, with one (untitled) section to put questions in."""
    require(rules.can_build_surveys(acting_user) and rules.can_manage(acting_user, owner_unit), "您无权以该单位名义发起问卷。")
    units = _check_target(target_scope, target_units)
    survey = Survey.objects.create(
        owner_unit=owner_unit, target_scope=target_scope, created_by=acting_user,
        **_survey_fields(title=title, description=description, answer_limit=answer_limit, closes_at=closes_at),
    )
    survey.target_units.set(units)
    SurveySection.objects.create(survey=survey, position=0)
    return survey


@transaction.atomic
def survey_update(
    *,
    survey: Survey,
    acting_user: User,
    title: str,
    description: str = "",
    target_scope: str = TargetScope.DISTRICT,
    target_units: Sequence[Unit] = (),
    answer_limit: str = AnswerLimit.DEVICE,
    closes_at: dt.datetime | None = None,
) -> Survey:
    """Change the survey's settings. The target area and the answer limit are fixed once
    answers come in (results would mix two populations)."""
    _check_manage(acting_user, survey)
    units = _check_target(target_scope, target_units)
    fields = _survey_fields(title=title, description=description, answer_limit=answer_limit, closes_at=closes_at)
    if survey.responses.exists():
        same_target = target_scope == survey.target_scope and {u.pk for u in units} == set(survey.target_units.values_list("pk", flat=True))
        if not same_target or answer_limit != survey.answer_limit:
            raise InvalidInput("已有答卷，不能再修改调查范围和答题限制。")
    for name, value in fields.items():
        setattr(survey, name, value)
    survey.target_scope = target_scope
    survey.save()
    survey.target_units.set(units)
    return survey


# ---------------------------------------------------------------- sections and questions


@transaction.atomic
def survey_section_add(*, survey: Survey, acting_user: User, title: str, description: str = "") -> SurveySection:
    _check_manage(acting_user, survey)
    _check_draft(survey)
    position = (survey.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    return SurveySection.objects.create(survey=survey, title=(title or "").strip()[:120], description=(description or "").strip(), position=position)


@transaction.atomic
def survey_section_update(*, section: SurveySection, acting_user: User, title: str, description: str = "") -> SurveySection:
    _check_manage(acting_user, section.survey)
    section.title, section.description = (title or "").strip()[:120], (description or "").strip()
    section.save(update_fields=["title", "description"])
    return section


@transaction.atomic
def survey_section_delete(*, section: SurveySection, acting_user: User) -> None:
    survey = section.survey
    _check_manage(acting_user, survey)
    _check_draft(survey)
    if survey.sections.count() <= 1:
        raise InvalidInput("问卷至少要有一个部分。")
    section.delete()


def _question_fields(
    *,
    survey: Survey,
    kind: str,
    text: str,
    help_text: str,
    required: bool,
    options: Sequence[str],
    min_value: float | None,
    max_value: float | None,
    show_if_question: SurveyQuestion | None,
    show_if_option: str,
    position_before: tuple[int, int] | None,
) -> dict:
    if kind not in QuestionKind.values:
        raise InvalidInput("题型选择有误。")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请填写题目。")
    cleaned = []
    for option in options or []:
        option = option.strip()
        if option and option not in cleaned:
            cleaned.append(option[:200])
    if kind in CHOICE_KINDS:
        if len(cleaned) < 2:
            raise InvalidInput("选择题至少需要两个选项。")
        if len(cleaned) > MAX_OPTIONS:
            raise InvalidInput(f"选项不能超过{MAX_OPTIONS}个。")
    else:
        cleaned = []
    if kind != QuestionKind.NUMBER:
        min_value = max_value = None
    elif min_value is not None and max_value is not None and min_value > max_value:
        raise InvalidInput("最小值不能大于最大值。")
    if show_if_question is not None:
        if show_if_question.survey_id != survey.pk or show_if_question.kind not in CHOICE_KINDS:
            raise InvalidInput("显示条件只能引用本问卷的选择题。")
        if show_if_option not in show_if_question.options:
            raise InvalidInput("显示条件的选项不存在。")
        if position_before is not None:
            dep = (show_if_question.section.position, show_if_question.position)
            if dep >= position_before:
                raise InvalidInput("显示条件只能引用前面的题目。")
    else:
        show_if_option = ""
    return {
        "kind": kind, "text": text[:300], "help_text": (help_text or "").strip()[:300], "required": bool(required),
        "options": cleaned, "min_value": min_value, "max_value": max_value,
        "show_if_question": show_if_question, "show_if_option": show_if_option,
    }


@transaction.atomic
def survey_question_add(
    *,
    survey: Survey,
    section: SurveySection,
    acting_user: User,
    kind: str,
    text: str,
    help_text: str = "",
    required: bool = False,
    options: Sequence[str] = (),
    min_value: float | None = None,
    max_value: float | None = None,
    show_if_question: SurveyQuestion | None = None,
    show_if_option: str = "",
) -> SurveyQuestion:
    """Add a question at the end of a section."""
    _check_manage(acting_user, survey)
    _check_draft(survey)
    if section.survey_id != survey.pk:
        raise InvalidInput("所选部分不属于该问卷。")
    if survey.questions.count() >= MAX_QUESTIONS:
        raise InvalidInput(f"一份问卷最多{MAX_QUESTIONS}道题。")
    position = (section.questions.aggregate(m=Max("position"))["m"] or 0) + 1
    fields = _question_fields(
        survey=survey, kind=kind, text=text, help_text=help_text, required=required, options=options, min_value=min_value,
        max_value=max_value, show_if_question=show_if_question, show_if_option=show_if_option, position_before=(section.position, position),
    )
    return SurveyQuestion.objects.create(survey=survey, section=section, position=position, **fields)


@transaction.atomic
def survey_question_update(
    *,
    question: SurveyQuestion,
    acting_user: User,
    kind: str,
    text: str,
    help_text: str = "",
    required: bool = False,
    options: Sequence[str] = (),
    min_value: float | None = None,
    max_value: float | None = None,
    show_if_question: SurveyQuestion | None = None,
    show_if_option: str = "",
) -> SurveyQuestion:
    survey = question.survey
    _check_manage(acting_user, survey)
    _check_draft(survey)
    if show_if_question is not None and show_if_question.pk == question.pk:
        raise InvalidInput("显示条件不能引用本题。")
    fields = _question_fields(
        survey=survey, kind=kind, text=text, help_text=help_text, required=required, options=options, min_value=min_value,
        max_value=max_value, show_if_question=show_if_question, show_if_option=show_if_option,
        position_before=(question.section.position, question.position),
    )
    for name, value in fields.items():
        setattr(question, name, value)
    question.save()
    # Questions shown only for an option that no longer exists would never be asked.
    question.dependents.exclude(show_if_option__in=question.options).update(show_if_question=None, show_if_option="")
    return question


@transaction.atomic
def survey_question_delete(*, question: SurveyQuestion, acting_user: User) -> None:
    _check_manage(acting_user, question.survey)
    _check_draft(question.survey)
    question.dependents.update(show_if_question=None, show_if_option="")
    question.delete()


@transaction.atomic
def survey_question_move(*, question: SurveyQuestion, acting_user: User, up: bool) -> None:
    """Swap the question with its neighbour in its section."""
    _check_manage(acting_user, question.survey)
    _check_draft(question.survey)
    siblings = list(question.section.questions.order_by("position", "id"))
    index = next(i for i, q in enumerate(siblings) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, q in enumerate(siblings, start=1):
        if q.position != position:
            SurveyQuestion.objects.filter(pk=q.pk).update(position=position)
    # A condition must still point backwards.
    for q in SurveyQuestion.objects.filter(section=question.section, show_if_question__section=question.section).select_related("show_if_question"):
        if q.show_if_question.position >= q.position:
            SurveyQuestion.objects.filter(pk=q.pk).update(show_if_question=None, show_if_option="")


# ---------------------------------------------------------------- lifecycle


@transaction.atomic
def survey_publish(*, survey: Survey, acting_user: User) -> Survey:
    _check_manage(acting_user, survey)
    if survey.status != SurveyStatus.DRAFT:
        raise InvalidInput("问卷已发布。")
    if not survey.questions.exists():
        raise InvalidInput("问卷还没有题目。")
    now = timezone.now()
    if survey.closes_at is not None and survey.closes_at <= now:
        raise InvalidInput("截止时间已过，请先修改截止时间。")
    survey.status, survey.published_at = SurveyStatus.PUBLISHED, now
    survey.save(update_fields=["status", "published_at"])
    return survey


@transaction.atomic
def survey_close(*, survey: Survey, acting_user: User) -> Survey:
    _check_manage(acting_user, survey)
    if survey.status != SurveyStatus.PUBLISHED:
        raise InvalidInput("只有收集中的问卷可以结束。")
    survey.status, survey.closed_at = SurveyStatus.CLOSED, timezone.now()
    survey.save(update_fields=["status", "closed_at"])
    return survey


@transaction.atomic
def survey_reopen(*, survey: Survey, acting_user: User) -> Survey:
    _check_manage(acting_user, survey)
    if survey.status != SurveyStatus.CLOSED:
        raise InvalidInput("只有已结束的问卷可以重新开放。")
    if survey.closes_at is not None and survey.closes_at <= timezone.now():
        raise InvalidInput("截止时间已过，请先修改截止时间。")
    survey.status, survey.closed_at = SurveyStatus.PUBLISHED, None
    survey.save(update_fields=["status", "closed_at"])
    return survey


# ---------------------------------------------------------------- answering


def answer_limit_key(survey: Survey, *, phone: str, device: str) -> str | None:
    """What makes a second answer from the same phone or device collide (unique per survey).

    A phone is keyed by its blind index (the keyed hash under MINSHENG_INDEX_KEY that sits
    beside the encrypted phone), so the table never holds a hash anyone could reverse by
    trying every number with a leaked SECRET_KEY. A device is keyed by a hash of its random
    cookie: nothing personal there."""
    if survey.answer_limit == AnswerLimit.PHONE:
        index = blind_index(phone) if phone else ""
        if not index:
            raise InvalidInput("请填写手机号码（每个手机号限答一次）。")
        return f"p:{index}"
    if survey.answer_limit == AnswerLimit.DEVICE and device:
        return hmac.new(settings.SECRET_KEY.encode(), f"{survey.pk}:d:{device}".encode(), hashlib.sha256).hexdigest()[:64]
    return None


def _answered_before(survey: Survey, key: str | None, phone: str) -> bool:
    if key and SurveyResponse.objects.filter(survey=survey, limit_key=key).exists():
        return True
    # After `rotate-keys --reindex` the limit keys of phones are stale; the blind index is not.
    return survey.answer_limit == AnswerLimit.PHONE and SurveyResponse.objects.filter(survey=survey, phone_index=blind_index(phone)).exists()


def survey_response_submit(
    *,
    survey: Survey,
    answers: dict[int, object],
    community: Unit | None = None,
    phone: str = "",
    device: str = "",
    now: dt.datetime | None = None,
) -> SurveyResponse:
    """Store a resident's answers (already validated by the answer form, skip logic applied).

    `answers` maps question id → a list of options (choice questions), a number, a date or a
    text; questions not answered are left out. Raises SurveyClosed after the closing time and
    AlreadyAnswered when this device or phone has answered before (if the survey says so).
    """
    now = now or timezone.now()
    if not survey.is_open(now):
        raise SurveyClosed("问卷已结束，感谢您的关注。")
    if community is not None and community.kind != UnitKind.COMMUNITY:
        raise InvalidInput("所在社区选择有误。")
    key = answer_limit_key(survey, phone=phone, device=device)
    questions = {q.pk: q for q in survey.questions.all()}
    try:
        with transaction.atomic():
            if _answered_before(survey, key, phone):
                raise AlreadyAnswered("您已经填写过这份问卷，感谢参与！")
            response = SurveyResponse.objects.create(
                survey=survey, submitted_at=now, community=community, street=community.parent if community else None,
                phone=phone, limit_key=key,
            )
            rows = []
            for question_id, value in answers.items():
                question = questions.get(question_id)
                if question is None or value in (None, "", []):
                    continue
                rows.append(_answer_row(response, question, value))
            SurveyAnswer.objects.bulk_create(rows)
    except IntegrityError:
        # Two submissions from the same device at once: the unique key let one through.
        raise AlreadyAnswered("您已经填写过这份问卷，感谢参与！") from None
    return response


def _answer_row(response: SurveyResponse, question: SurveyQuestion, value) -> SurveyAnswer:
    answer = SurveyAnswer(response=response, question=question)
    if question.kind in CHOICE_KINDS:
        answer.choices = list(value) if isinstance(value, (list, tuple)) else [value]
    elif question.kind in (QuestionKind.RATING, QuestionKind.NUMBER):
        answer.number_value = float(value)
    elif question.kind == QuestionKind.DATE:
        answer.date_value = value
    else:
        answer.text_value = str(value).strip()
    return answer


# ---------------------------------------------------------------- answer → appeal


@transaction.atomic
def survey_answer_to_appeal(*, answer: SurveyAnswer, acting_user: User) -> Case:
    """Turn a resident's text answer into an appeal (one click on the results page). The
    appeal keeps the respondent's community and phone; a second click returns the same one."""
    response = answer.response
    survey = response.survey
    _check_manage(acting_user, survey)
    require(rules.may_write(acting_user))
    if answer.question.kind != QuestionKind.TEXT or not answer.text_value.strip():
        raise InvalidInput("只有填空题的回答可以转为诉求。")
    if answer.case_id:
        return answer.case
    case = appeal_from_record(
        text=answer.text_value, channel=Channel.SURVEY, source_type=SOURCE_SURVEY_ANSWER, source_id=answer.pk,
        acting_user=acting_user, reporter_phone=response.phone, street=response.street, community=response.community,
        submitted_at=response.submitted_at,
    )
    SurveyAnswer.objects.filter(pk=answer.pk).update(case=case)
    answer.case = case
    return case


__all__ = [
    "AlreadyAnswered", "SurveyClosed", "survey_answer_to_appeal", "survey_close", "survey_create", "survey_publish",
    "survey_question_add", "survey_question_delete", "survey_question_move", "survey_question_update", "survey_reopen",
    "survey_response_submit", "survey_section_add", "survey_section_delete", "survey_section_update", "survey_update",
]
