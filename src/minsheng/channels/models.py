"""The listening channels' own records. What residents raise in them becomes a `Case` whose
`channel` names the channel and whose `source_type`/`source_id` point back at the record here
(a survey answer, a box note, a forum issue, a visit finding, an import batch)."""

from __future__ import annotations

import json
import re
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.models import Case
from minsheng.core.crypto import mask_address, mask_name, mask_phone
from minsheng.core.fields import BlindIndexField, EncryptedTextField
from minsheng.core.models import Unit

from .choices import (
    AnswerLimit,
    ForumKind,
    ImportRowStatus,
    ImportStatus,
    NoteSource,
    NoteStatus,
    PlaceKind,
    QuestionKind,
    SurveyStatus,
    TargetScope,
)

#: `Case.source_type` of the appeals each channel record becomes.
SOURCE_SURVEY_ANSWER = "survey_answer"
SOURCE_BOX_NOTE = "box_note"
SOURCE_FORUM_ISSUE = "forum_issue"
SOURCE_VISIT_FINDING = "visit_finding"
SOURCE_IMPORT = "import"


_NAME_SEPARATORS = re.compile(r"([、，,；;\s]+)")


def mask_names_in(text: str) -> str:
    """A list of people as typed ("王大爷、李阿姨") with each name masked ("王**、李**")."""
    return "".join(part if _NAME_SEPARATORS.fullmatch(part) or not part else mask_name(part) for part in _NAME_SEPARATORS.split(text or ""))


def public_token_new() -> str:
    """The unguessable part of a public link (survey, suggestion box): printed on posters."""
    return secrets.token_urlsafe(9)


def photo_path(instance: "ChannelPhoto", filename: str) -> str:
    return f"channels/{instance._meta.model_name}/{timezone.now():%Y%m}/{instance.stored_name}"


class ChannelPhoto(models.Model):
    """A photo on a channel record, already re-encoded without metadata (core.uploads)."""

    file = models.FileField(upload_to=photo_path)
    stored_name = models.CharField(max_length=80)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


# ---------------------------------------------------------------- surveys (问卷调查)


class Survey(models.Model):
    """A questionnaire (问卷) put to residents: built by staff, answered on a public page
    reached by link or QR code, with live results."""

    title = models.CharField(_("问卷标题"), max_length=120)
    description = models.TextField(_("问卷说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    token = models.CharField(max_length=24, unique=True, default=public_token_new)
    target_scope = models.CharField(_("调查范围"), max_length=16, choices=TargetScope.choices, default=TargetScope.DISTRICT)
    target_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("范围内的街道/社区"))
    answer_limit = models.CharField(_("答题限制"), max_length=16, choices=AnswerLimit.choices, default=AnswerLimit.DEVICE)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    owner_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("发起单位"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def is_open(self, now=None) -> bool:
        """Taking answers: published and before its closing time."""
        now = now or timezone.now()
        return self.status == SurveyStatus.PUBLISHED and (self.closes_at is None or now < self.closes_at)


class SurveySection(models.Model):
    """A titled group of questions (第一部分：基本情况)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("部分标题"), max_length=120, blank=True)
    description = models.TextField(_("说明"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("问卷部分")
        verbose_name_plural = _("问卷部分")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title or str(_("（未命名部分）"))


class SurveyQuestion(models.Model):
    """One question. `show_if_question`/`show_if_option` is the simple skip logic: the
    question is asked only when an earlier choice question was answered with that option."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(SurveySection, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=300)
    help_text = models.CharField(_("填写提示"), max_length=300, blank=True)
    required = models.BooleanField(_("必答"), default=False)
    options = models.JSONField(_("选项"), default=list, blank=True)
    min_value = models.FloatField(_("最小值"), null=True, blank=True)
    max_value = models.FloatField(_("最大值"), null=True, blank=True)
    show_if_question = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="dependents",
                                         verbose_name=_("显示条件：题目"))
    show_if_option = models.CharField(_("显示条件：选项"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        ordering = ["section__position", "section_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(models.Model):
    """One resident's filled-in questionnaire. `limit_key` enforces "one answer per device or
    phone" when the survey asks for it (unique per survey; empty when unlimited): a hash of the
    device's random cookie, or the phone's blind index — never the phone itself, which is
    encrypted and cannot be compared."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    street = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    phone_index = BlindIndexField(source="phone", help_text="Keyed hash of the phone: finds a resident's answers for an erasure request.")
    limit_key = models.CharField(max_length=80, null=True, blank=True)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["survey", "limit_key"], name="survey_one_answer_per_key")]

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class SurveyAnswer(models.Model):
    """The answer to one question. A text answer can become an appeal (`case`)."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    text_value = models.TextField(blank=True)
    number_value = models.FloatField(null=True, blank=True)
    date_value = models.DateField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("问卷回答")
        verbose_name_plural = _("问卷回答")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")]


# ---------------------------------------------------------------- suggestion boxes (群众意见箱)


class SuggestionBox(models.Model):
    """A community's suggestion box (群众意见箱), or the district-wide one: a physical box
    whose paper notes staff enter, and an online box behind a QR code on it."""

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="suggestion_box", verbose_name=_("所属单位"))
    token = models.CharField(max_length=24, unique=True, default=public_token_new)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("意见箱")
        verbose_name_plural = _("意见箱")
        ordering = ["unit__kind", "unit__parent__sort_order", "unit__sort_order"]

    def __str__(self) -> str:
        return str(_("%(unit)s意见箱") % {"unit": self.unit.name})


class NoteBatch(models.Model):
    """Paper notes taken out of a box on one day and entered together (批量录入)."""

    box = models.ForeignKey(SuggestionBox, on_delete=models.PROTECT, related_name="batches")
    collected_on = models.DateField(_("开箱日期"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("开箱记录")
        verbose_name_plural = _("开箱记录")
        ordering = ["-collected_on", "-id"]


class SuggestionNote(models.Model):
    """A note dropped in a box (anonymous allowed). It waits for moderation: spam and abuse
    are set aside, a real problem becomes an appeal."""

    box = models.ForeignKey(SuggestionBox, on_delete=models.PROTECT, related_name="notes")
    source = models.CharField(_("来源"), max_length=16, choices=NoteSource.choices, default=NoteSource.ONLINE)
    batch = models.ForeignKey(NoteBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(_("意见内容"))
    address = EncryptedTextField(_("地点"), max_length=300, blank=True)
    name = EncryptedTextField(_("姓名"), max_length=100, blank=True)
    phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    phone_index = BlindIndexField(source="phone")
    is_anonymous = models.BooleanField(_("匿名"), default=False)
    submitted_at = models.DateTimeField(_("投递时间"), default=timezone.now, db_index=True)
    status = models.CharField(_("审核状态"), max_length=16, choices=NoteStatus.choices, default=NoteStatus.PENDING)
    suspicion = models.CharField(_("疑似问题"), max_length=200, blank=True, help_text="Why the automatic check finds it suspicious.")
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("意见箱留言")
        verbose_name_plural = _("意见箱留言")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["box", "status"], name="note_box_status_idx")]

    @property
    def summary(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 40 else text[:40] + "…"

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def address_masked(self) -> str:
        return mask_address(self.address)


# ---------------------------------------------------------------- forums (座谈会)


class Forum(models.Model):
    """A meeting with residents or enterprises (座谈会, including the biweekly enterprise
    forums): its record, and the issues raised there, each of which becomes an appeal."""

    kind = models.CharField(_("类型"), max_length=16, choices=ForumKind.choices, default=ForumKind.COMMUNITY)
    title = models.CharField(_("会议名称"), max_length=150)
    held_on = models.DateField(_("会议日期"))
    start_time = models.TimeField(_("开始时间"), null=True, blank=True)
    place = models.CharField(_("会议地点"), max_length=200)
    host_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("主办单位"))
    minutes = models.TextField(_("会议纪要"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True, help_text="When the attendees' names were erased (retention).")

    class Meta:
        verbose_name = _("座谈会")
        verbose_name_plural = _("座谈会")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ForumAttendee(models.Model):
    """Someone at the meeting, with their organisation (企业、单位) and post. The name is
    personal data (encrypted, masked); the organisation and post are not."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="attendees")
    name = EncryptedTextField(_("姓名"), max_length=60, blank=True)
    organisation = models.CharField(_("单位"), max_length=150, blank=True)
    post = models.CharField(_("职务"), max_length=60, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("参会人员")
        verbose_name_plural = _("参会人员")
        ordering = ["position", "id"]

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class ForumPhoto(ChannelPhoto):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="photos")

    class Meta:
        verbose_name = _("会议照片")
        verbose_name_plural = _("会议照片")


class ForumIssue(models.Model):
    """A problem raised at a meeting; it becomes an appeal linked to the meeting (`case`)."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="issues")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField(_("反映问题"))
    raised_by = EncryptedTextField(_("提出人"), max_length=60, blank=True)
    organisation = models.CharField(_("提出人单位"), max_length=150, blank=True)
    phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    phone_index = BlindIndexField(source="phone")
    address = EncryptedTextField(_("地点"), max_length=300, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("座谈会问题")
        verbose_name_plural = _("座谈会问题")
        ordering = ["position", "id"]

    @property
    def raised_by_masked(self) -> str:
        return mask_name(self.raised_by)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


# ---------------------------------------------------------------- field visits (实地走访)


class Visit(models.Model):
    """A community worker's visit to a household or place (入户走访): who was met, what was
    found. Findings that need action become appeals. `client_key` is set by the phone that
    recorded it, so a draft sent again after a lost connection is stored once."""

    community = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    place_kind = models.CharField(_("走访对象"), max_length=16, choices=PlaceKind.choices, default=PlaceKind.HOUSEHOLD)
    place = EncryptedTextField(_("户/地点"), max_length=200)
    people_met = EncryptedTextField(_("接待人员"), max_length=300, blank=True)
    phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    phone_index = BlindIndexField(source="phone")
    situation = models.TextField(_("基本情况"), blank=True)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("走访人"))
    client_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["visitor", "client_key"], name="visit_once_per_draft")]
        indexes = [models.Index(fields=["community", "visited_at"], name="visit_community_time_idx")]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d} {self.place_masked}"

    @property
    def place_masked(self) -> str:
        """A household's address without its numbers; a shop or public place as written."""
        return mask_address(self.place) if self.place_kind == PlaceKind.HOUSEHOLD else self.place

    @property
    def people_met_masked(self) -> str:
        return mask_names_in(self.people_met)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class VisitPhoto(ChannelPhoto):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")


class VisitFinding(models.Model):
    """A problem found on a visit; it becomes an appeal (`case`)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="findings")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField(_("发现问题"))
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("走访发现问题")
        verbose_name_plural = _("走访发现问题")
        ordering = ["position", "id"]


# ---------------------------------------------------------------- bulk import (批量导入)


class ImportBatch(models.Model):
    """An uploaded spreadsheet of appeals: validated row by row first, imported only when
    clean (or, when the user chooses, its valid rows only), in chunks with progress."""

    file_name = models.CharField(_("文件名"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.VALIDATED)
    total_rows = models.PositiveIntegerField(_("数据行"), default=0)
    error_rows = models.PositiveIntegerField(_("错误行"), default=0)
    valid_only = models.BooleanField(_("仅导入有效行"), default=False)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("新建诉求"), default=0)
    duplicate_count = models.PositiveIntegerField(_("重复跳过"), default=0)
    file_errors = models.JSONField(default=list, blank=True, help_text="Problems with the file as a whole (no header, unknown columns).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True, help_text="When the rows' names, phones and addresses were dropped.")

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def valid_rows(self) -> int:
        return self.total_rows - self.error_rows

    @property
    def to_import(self) -> int:
        return self.valid_rows if (self.valid_only or not self.error_rows) else 0

    @property
    def percent(self) -> int:
        return 100 if not self.to_import else min(100, round(100 * self.processed_rows / self.to_import))


class ImportRow(models.Model):
    """One data row of an import: its cleaned values, its errors, and what became of it."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("行号"))
    payload = EncryptedTextField(help_text="The row's cleaned values as JSON (names, phones and addresses: encrypted at rest).")
    errors = models.JSONField(default=list, blank=True)
    key = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=16, choices=ImportRowStatus.choices, default=ImportRowStatus.PENDING)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        ordering = ["row_number"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="import_row_unique")]
        indexes = [models.Index(fields=["batch", "status", "row_number"], name="import_row_status_idx")]

    @property
    def values(self) -> dict:
        return json.loads(self.payload) if self.payload else {}

    @values.setter
    def values(self, values: dict) -> None:
        self.payload = json.dumps(values, ensure_ascii=False)


__all__ = [
    "Forum", "ForumAttendee", "ForumIssue", "ForumPhoto", "ImportBatch", "ImportRow", "NoteBatch", "SuggestionBox",
    "SuggestionNote", "Survey", "SurveyAnswer", "SurveyQuestion", "SurveyResponse", "SurveySection", "Visit",
    "VisitFinding", "VisitPhoto",
]
