"""The channels' forms: staff pages (survey builder, box moderation and paper entry, forum
record, visit log, import) and the residents' pages (answering a survey, a box note)."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit
from minsheng.core.uploads import ACCEPTED_CONTENT_TYPES, image_reencode
from minsheng.intake.services import Photo

from . import rules
from .choices import CHOICE_KINDS, AnswerLimit, ForumKind, NoteStatus, PlaceKind, QuestionKind, TargetScope
from .models import SurveyQuestion

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def normalise_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def clean_phone_value(raw: str) -> str:
    phone = normalise_phone(raw)
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise forms.ValidationError(_("请填写11位手机号码，或带区号的固定电话。"), code="bad_phone")
    return phone


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, unit: Unit) -> str:
        if unit.kind == UnitKind.COMMUNITY and unit.parent_id:
            return f"{unit.parent.name} · {unit.name}"
        return unit.name


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, unit: Unit) -> str:
        return UnitChoiceField.label_from_instance(self, unit)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to `max_files` images, each checked and re-encoded (metadata dropped) while the
    form is validated."""

    widget = MultipleFileInput

    def __init__(self, *, max_files: int = 6, **kwargs):
        kwargs.setdefault("required", False)
        self.max_files = max_files
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"accept": ",".join(ACCEPTED_CONTENT_TYPES), "data-max-files": self.max_files,
                      "data-max-bytes": settings.MINSHENG_MAX_UPLOAD_BYTES})
        return attrs

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > self.max_files:
            raise forms.ValidationError(_("最多上传%(count)d张照片。"), code="too_many", params={"count": self.max_files})
        photos, errors = [], []
        for number, upload in enumerate(files, start=1):
            try:
                if upload.size > settings.MINSHENG_MAX_UPLOAD_BYTES:
                    raise ValueError(_("文件太大（不能超过%(size)s）。") % {"size": filesizeformat(settings.MINSHENG_MAX_UPLOAD_BYTES)})
                content, content_type = image_reencode(upload.read())
                photos.append(Photo(content=content, content_type=content_type))
            except ValueError as exc:
                errors.append(forms.ValidationError(_("第%(n)d张照片：%(reason)s"), code="invalid_image", params={"n": number, "reason": exc}))
        if errors:
            raise forms.ValidationError(errors)
        return photos


def _units(user, kinds):
    return Unit.objects.filter(pk__in=[u.pk for u in rules.units_to_act_for(user, kinds)]).select_related("parent").order_by(
        "kind", "parent__sort_order", "sort_order", "code")


# ---------------------------------------------------------------- surveys (staff)


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("问卷标题"), max_length=120)
    description = forms.CharField(label=_("问卷说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("显示在答题页顶部：调查目的、大约需要几分钟。"))
    owner_unit = UnitChoiceField(label=_("发起单位"), queryset=Unit.objects.none(), empty_label=None)
    target_scope = forms.ChoiceField(label=_("调查范围"), choices=TargetScope.choices, initial=TargetScope.DISTRICT)
    target_streets = UnitMultipleChoiceField(label=_("范围内的街道"), queryset=Unit.objects.none(), required=False)
    target_communities = UnitMultipleChoiceField(label=_("范围内的社区"), queryset=Unit.objects.none(), required=False)
    answer_limit = forms.ChoiceField(label=_("答题限制"), choices=AnswerLimit.choices, initial=AnswerLimit.DEVICE)
    closes_at = forms.DateTimeField(label=_("截止时间"), required=False, widget=DateTimeInput(), help_text=_("留空表示手动结束。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = _units(user, (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT))
        self.fields["target_streets"].queryset = Unit.objects.filter(kind=UnitKind.STREET, active=True).order_by("sort_order")
        self.fields["target_communities"].queryset = Unit.objects.filter(kind=UnitKind.COMMUNITY, active=True).select_related("parent").order_by(
            "parent__sort_order", "sort_order")

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("target_scope")
        if scope == TargetScope.STREETS and not cleaned.get("target_streets"):
            self.add_error("target_streets", _("请选择街道。"))
        if scope == TargetScope.COMMUNITIES and not cleaned.get("target_communities"):
            self.add_error("target_communities", _("请选择社区。"))
        return cleaned

    @property
    def target_units(self) -> list[Unit]:
        scope = self.cleaned_data["target_scope"]
        if scope == TargetScope.STREETS:
            return list(self.cleaned_data["target_streets"])
        if scope == TargetScope.COMMUNITIES:
            return list(self.cleaned_data["target_communities"])
        return []


class SectionForm(forms.Form):
    title = forms.CharField(label=_("部分标题"), max_length=120, required=False)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class QuestionForm(forms.Form):
    section = forms.ChoiceField(label=_("所在部分"))
    kind = forms.ChoiceField(label=_("题型"), choices=QuestionKind.choices)
    text = forms.CharField(label=_("题目"), max_length=300)
    help_text = forms.CharField(label=_("填写提示"), max_length=300, required=False)
    required = forms.BooleanField(label=_("必答"), required=False)
    options = forms.CharField(label=_("选项（每行一个）"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("单选题、多选题填写。"))
    min_value = forms.FloatField(label=_("最小值"), required=False, help_text=_("数字题可填。"))
    max_value = forms.FloatField(label=_("最大值"), required=False)
    condition = forms.ChoiceField(label=_("显示条件"), required=False, help_text=_("只有前面某道选择题选了某个选项时，才显示本题。"))

    def __init__(self, *args, survey, question: SurveyQuestion | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        sections = list(survey.sections.all())
        self.fields["section"].choices = [(s.pk, s.title or _("（未命名部分）")) for s in sections]
        choices = [("", _("总是显示"))]
        for number, q in enumerate(survey.questions.select_related("section").order_by("section__position", "section_id", "position", "id"), start=1):
            if question is not None and q.pk == question.pk:
                break
            if q.kind in CHOICE_KINDS:
                choices += [(f"{q.pk}:{i}", f"Q{number}「{q.text[:20]}」= {option}") for i, option in enumerate(q.options)]
        self.fields["condition"].choices = choices
        if question is not None:
            self.fields.pop("section")

    def clean_options(self) -> list[str]:
        return lines(self.cleaned_data.get("options", ""))

    def clean(self):
        cleaned = super().clean()
        cleaned["show_if_question"], cleaned["show_if_option"] = None, ""
        condition = cleaned.get("condition")
        if condition:
            qid, _sep, index = condition.partition(":")
            target = self.survey.questions.filter(pk=int(qid)).first()
            if target is None or not index.isdigit() or int(index) >= len(target.options):
                self.add_error("condition", _("显示条件有误。"))
            else:
                cleaned["show_if_question"], cleaned["show_if_option"] = target, target.options[int(index)]
        return cleaned

    @staticmethod
    def initial_for(question: SurveyQuestion) -> dict:
        condition = ""
        if question.show_if_question_id and question.show_if_option in question.show_if_question.options:
            condition = f"{question.show_if_question_id}:{question.show_if_question.options.index(question.show_if_option)}"
        return {"kind": question.kind, "text": question.text, "help_text": question.help_text, "required": question.required,
                "options": "\n".join(question.options), "min_value": question.min_value, "max_value": question.max_value,
                "condition": condition}

    def service_kwargs(self) -> dict:
        c = self.cleaned_data
        return {k: c[k] for k in ("kind", "text", "help_text", "required", "options", "min_value", "max_value", "show_if_question", "show_if_option")}


class CrossTabForm(forms.Form):
    question = forms.ChoiceField(label=_("交叉分析题目"), required=False)

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].choices = [(q.pk, q.text[:40]) for q in questions]


# ---------------------------------------------------------------- surveys (residents)


class SurveyAnswerForm(forms.Form):
    """A survey's questions as fields (q<id>), plus the respondent's community and phone.
    A question whose condition is not met is neither required nor stored."""

    community = UnitChoiceField(label=_("您所在的社区"), queryset=Unit.objects.none(), required=False, empty_label=_("请选择"))
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}))

    def __init__(self, *args, survey, questions: list[SurveyQuestion], communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey, self.questions = survey, questions
        self.fields["community"].queryset = communities
        self.fields["community"].required = survey.target_scope != TargetScope.DISTRICT
        if survey.answer_limit == AnswerLimit.PHONE:
            self.fields["phone"].required = True
            self.fields["phone"].help_text = _("每个手机号只能填写一次。")
        else:
            self.fields["phone"].label = _("手机号码（选填）")
            self.fields["phone"].help_text = _("留下电话，您提出的问题可以转给有关部门办理并联系您。")
        for question in questions:
            self.fields[f"q{question.pk}"] = self._field(question)

    @staticmethod
    def _field(q: SurveyQuestion) -> forms.Field:
        common = {"label": q.text, "required": False, "help_text": q.help_text}
        if q.kind == QuestionKind.SINGLE:
            return forms.ChoiceField(choices=[(o, o) for o in q.options], widget=forms.RadioSelect, **common)
        if q.kind == QuestionKind.MULTIPLE:
            return forms.MultipleChoiceField(choices=[(o, o) for o in q.options], widget=forms.CheckboxSelectMultiple, **common)
        if q.kind == QuestionKind.RATING:
            return forms.TypedChoiceField(choices=[(str(i), str(i)) for i in range(1, 6)], coerce=int, empty_value=None,
                                          widget=forms.RadioSelect(attrs={"class": "rating-input"}), **common)
        if q.kind == QuestionKind.NUMBER:
            return forms.FloatField(min_value=q.min_value, max_value=q.max_value, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}), **common)
        if q.kind == QuestionKind.DATE:
            return forms.DateField(widget=DateInput(), **common)
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def visible(self, question: SurveyQuestion, cleaned: dict) -> bool:
        """Whether the skip logic asks this question, given the answers so far."""
        parent = question.show_if_question
        if parent is None:
            return True
        if not self.visible(parent, cleaned):
            return False
        value = cleaned.get(f"q{parent.pk}")
        chosen = value if isinstance(value, list) else [value]
        return question.show_if_option in chosen

    def clean(self):
        cleaned = super().clean()
        self.answers: dict[int, object] = {}
        for q in self.questions:
            name = f"q{q.pk}"
            value = cleaned.get(name)
            if not self.visible(q, cleaned):
                continue
            if value in (None, "", []):
                if q.required and name not in self.errors:
                    self.add_error(name, _("此题必答。"))
                continue
            if isinstance(value, str):
                value = value.strip()
            self.answers[q.pk] = value
        return cleaned


# ---------------------------------------------------------------- suggestion boxes


class NoteForm(forms.Form):
    """A note in the online box (匿名可)."""

    text = forms.CharField(label=_("您的意见或建议"), max_length=2000, widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": _("请写下您的意见或建议。")})
    address = forms.CharField(label=_("涉及地点（选填）"), max_length=300, required=False)
    name = forms.CharField(label=_("您的称呼（选填）"), max_length=100, required=False)
    phone = forms.CharField(label=_("联系电话（选填）"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}))
    is_anonymous = forms.BooleanField(label=_("匿名投递"), required=False, help_text=_("不留姓名和电话。"))
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
            raise forms.ValidationError(_("页面已失效，请刷新后重新填写。"))
        return token


def form_token_new() -> str:
    return secrets.token_urlsafe(18)


class PaperBatchForm(forms.Form):
    collected_on = forms.DateField(label=_("开箱日期"), widget=DateInput(), initial=timezone.localdate)


class PaperNoteForm(forms.Form):
    text = forms.CharField(label=_("留言内容"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    address = forms.CharField(label=_("地点"), max_length=300, required=False)
    name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    phone = forms.CharField(label=_("电话"), max_length=20, required=False)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))


PaperNoteFormSet = forms.formset_factory(PaperNoteForm, extra=5, max_num=200, validate_max=True)


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(label=_("审核结果"), choices=[(s.value, s.label) for s in (NoteStatus.APPEAL, NoteStatus.NO_ACTION, NoteStatus.SPAM, NoteStatus.ABUSE)])
    comment = forms.CharField(label=_("审核意见"), max_length=300, required=False)


class NoteFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *NoteStatus.choices])


# ---------------------------------------------------------------- forums


class ForumForm(forms.Form):
    kind = forms.ChoiceField(label=_("会议类型"), choices=ForumKind.choices)
    title = forms.CharField(label=_("会议名称"), max_length=150)
    held_on = forms.DateField(label=_("会议日期"), widget=DateInput(), initial=timezone.localdate)
    start_time = forms.TimeField(label=_("开始时间"), required=False, widget=TimeInput())
    place = forms.CharField(label=_("会议地点"), max_length=200)
    host_unit = UnitChoiceField(label=_("主办单位"), queryset=Unit.objects.none(), empty_label=None)
    attendees = forms.CharField(
        label=_("参会人员"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("每行一人：姓名、单位、职务（用逗号或空格分隔，单位和职务可省略）。"),
    )
    minutes = forms.CharField(label=_("会议纪要"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    photos = PhotosField(label=_("会议照片"), max_files=6)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host_unit"].queryset = _units(user, (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT))

    def clean_attendees(self) -> list[dict]:
        people = []
        for line in lines(self.cleaned_data.get("attendees", "")):
            parts = [p for p in re.split(r"[,，、;；\t]+|\s{1,}", line) if p]
            if not parts:
                continue
            if len(parts[0]) > 60:
                raise forms.ValidationError(_("“%(line)s”：姓名过长。") % {"line": line[:30]})
            people.append({"name": parts[0], "organisation": parts[1] if len(parts) > 1 else "", "post": " ".join(parts[2:])})
        return people

    @staticmethod
    def attendees_text(forum) -> str:
        return "\n".join("，".join(p for p in (a.name, a.organisation, a.post) if p) for a in forum.attendees.all())


class IssueForm(forms.Form):
    text = forms.CharField(label=_("反映的问题"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    raised_by = forms.CharField(label=_("提出人"), max_length=60, required=False)
    organisation = forms.CharField(label=_("单位/企业"), max_length=150, required=False)
    phone = forms.CharField(label=_("电话"), max_length=20, required=False)
    address = forms.CharField(label=_("地点"), max_length=300, required=False)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def clean_text(self) -> str:
        text = (self.cleaned_data.get("text") or "").strip()
        if text and len(text) < 5:
            raise forms.ValidationError(_("问题描述太短，请至少写5个字。"))
        return text


IssueFormSet = forms.formset_factory(IssueForm, extra=3, max_num=100, validate_max=True)


def issues_from(formset) -> list[dict]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get("text")]


# ---------------------------------------------------------------- visits


class VisitForm(forms.Form):
    community = UnitChoiceField(label=_("社区"), queryset=Unit.objects.none(), empty_label=None)
    visited_at = forms.DateTimeField(label=_("走访时间"), widget=DateTimeInput())
    place_kind = forms.ChoiceField(label=_("走访对象"), choices=PlaceKind.choices)
    place = forms.CharField(label=_("户/地点"), max_length=200, help_text=_("如：3号楼2单元401室 王大爷家；某某超市。"))
    people_met = forms.CharField(label=_("接待人员"), max_length=300, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
                            help_text=_("选填：方便承办单位回访。"))
    situation = forms.CharField(label=_("基本情况"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    findings = forms.CharField(label=_("发现的问题（每行一条，每条转为一件诉求）"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("现场照片"), max_files=6)
    client_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _units(user, (UnitKind.COMMUNITY,))

    def clean_client_key(self) -> str:
        key = self.cleaned_data["client_key"]
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", key):
            raise forms.ValidationError(_("页面已失效，请刷新后重新填写。"))
        return key

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def clean_findings(self) -> list[str]:
        found = lines(self.cleaned_data.get("findings", ""))
        for text in found:
            if len(text) < 5:
                raise forms.ValidationError(_("“%(text)s”太短：每条问题至少写5个字。") % {"text": text})
        return found

    def clean_visited_at(self) -> dt.datetime:
        value = self.cleaned_data["visited_at"]
        if value > timezone.now() + dt.timedelta(minutes=10):
            raise forms.ValidationError(_("走访时间不能晚于现在。"))
        return value


class VisitLedgerForm(forms.Form):
    community = UnitChoiceField(label=_("社区"), queryset=Unit.objects.none(), required=False, empty_label=_("全部社区"))
    month = forms.DateField(label=_("月份"), input_formats=["%Y-%m"], required=False,
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Unit.objects.filter(rules.unit_scope(user).q("pk"), kind=UnitKind.COMMUNITY).select_related(
            "parent").order_by("parent__sort_order", "sort_order")

    def month_value(self) -> dt.date:
        value = self.cleaned_data.get("month") if self.is_valid() else None
        return (value or timezone.localdate()).replace(day=1)


# ---------------------------------------------------------------- import


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("诉求表格（.xlsx 或 .csv）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"}))

    def clean_file(self):
        from .services.imports import MAX_UPLOAD_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件太大（最多%(size)s）。更大的文件请用命令行 minsheng import 导入。") % {"size": filesizeformat(MAX_UPLOAD_BYTES)})
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".csv", ".xls", ".xlsm")):
            raise forms.ValidationError(_("只能导入 .xlsx 或 .csv 文件。"))
        return upload


class ImportStartForm(forms.Form):
    valid_only = forms.BooleanField(required=False)
