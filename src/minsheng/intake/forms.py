"""The residents' forms: raising an appeal, looking one up, rating the answer."""

from __future__ import annotations

import re
import secrets

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from minsheng.cases.choices import Feedback
from minsheng.cases.models import Category
from minsheng.cases.selectors import subcategories
from minsheng.core.uploads import ACCEPTED_CONTENT_TYPES, image_reencode

from .services import Photo

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")  # area code (3–4 digits with its 0) + 7–8 digits
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_TRACKING_CODE = re.compile(r"^[0-9A-Z]{6,16}$")


def submission_token_new() -> str:
    """A one-time token for a blank appeal form. It becomes the case's idempotency key, so
    the same form sent twice (a double tap, a browser retry) files one case."""
    return secrets.token_urlsafe(24)


def normalise_phone(raw: str) -> str:
    """Digits only, without a +86 country prefix: '138 1234 5678' → '13812345678'."""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MINSHENG_MAX_PHOTOS images; each is checked and re-encoded while the form is
    validated, so a bad photo is reported next to the field like any other mistake."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({
            "accept": ",".join(ACCEPTED_CONTENT_TYPES),
            "data-max-files": settings.MINSHENG_MAX_PHOTOS,
            "data-max-bytes": settings.MINSHENG_MAX_UPLOAD_BYTES,
        })
        return attrs

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        limit = settings.MINSHENG_MAX_PHOTOS
        if len(files) > limit:
            raise forms.ValidationError(_("最多上传%(count)d张照片。"), code="too_many", params={"count": limit})
        errors, photos = [], []
        for number, upload in enumerate(files, start=1):
            try:
                photos.append(self._photo(upload))
            except ValueError as exc:
                errors.append(forms.ValidationError(_("第%(n)d张照片：%(reason)s"), code="invalid_image", params={"n": number, "reason": exc}))
        if errors:
            raise forms.ValidationError(errors)
        return photos

    @staticmethod
    def _photo(upload) -> Photo:
        max_bytes = settings.MINSHENG_MAX_UPLOAD_BYTES
        if upload.size > max_bytes:
            raise ValueError(_("文件太大（不能超过%(size)s）。") % {"size": filesizeformat(max_bytes)})
        content, content_type = image_reencode(upload.read())
        return Photo(content=content, content_type=content_type)


def category_choices() -> list:
    """Subcategories grouped under their category, for a select with <optgroup>s."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for sub in subcategories().order_by("parent__sort_order", "sort_order", "code"):
        groups.setdefault(sub.parent.name, []).append((sub.code, sub.name))
    return [("", _("不清楚，由工作人员判断")), *groups.items()]


class AppealForm(forms.Form):
    """A resident's appeal (民生诉求) from the phone page."""

    text = forms.CharField(
        label=_("反映的问题"),
        min_length=5,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("请写清楚发生了什么、在哪里、持续多久。"),
        error_messages={
            "required": _("请写下您要反映的问题。"),
            "min_length": _("内容太短，请至少写%(limit_value)d个字，说明问题和地点。"),
        },
    )
    address = forms.CharField(
        label=_("地点"),
        required=False,
        max_length=300,
        help_text=_("小区、道路或附近的地标，例如“碧沙岗公园南门”。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-places": reverse_lazy("intake:places"), "role": "combobox",
                                      "aria-autocomplete": "list", "aria-expanded": "false"}),
    )
    category = forms.ChoiceField(label=_("问题类别"), required=False)
    reporter_name = forms.CharField(label=_("您的称呼"), required=False, max_length=100,
                                    widget=forms.TextInput(attrs={"autocomplete": "name"}))
    reporter_phone = forms.CharField(
        label=_("手机号码"),
        required=False,
        max_length=20,
        help_text=_("便于承办单位联系您；查询进度时需要它的后四位。"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    is_anonymous = forms.BooleanField(
        label=_("匿名反映"), required=False,
        help_text=_("不留姓名和电话。承办单位将无法联系您，凭查询码即可查看进度。"),
    )
    photos = PhotosField(label=_("照片"))
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()
        self.fields["photos"].help_text = _("可选，最多%(count)d张，JPEG、PNG 或 WebP 格式。") % {"count": settings.MINSHENG_MAX_PHOTOS}

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not _TOKEN.match(token):
            raise forms.ValidationError(_("页面已失效，请刷新后重新填写。"), code="bad_token")
        return token

    def clean_category(self) -> Category | None:
        code = self.cleaned_data.get("category")
        if not code:
            return None
        return subcategories().get(code=code)  # the choices already limited it to these

    def clean_reporter_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("reporter_phone", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_anonymous"):
            cleaned["reporter_name"], cleaned["reporter_phone"] = "", ""
            return cleaned
        phone = cleaned.get("reporter_phone", "")
        if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
            self.add_error("reporter_phone", forms.ValidationError(
                _("请填写11位手机号码，或带区号的固定电话。"), code="bad_phone"))
        return cleaned

    @property
    def max_photos(self) -> int:
        return settings.MINSHENG_MAX_PHOTOS

    @property
    def idempotency_key(self) -> str:
        return f"h5:{self.cleaned_data['token']}"


class TrackForm(forms.Form):
    """Looking up one's own appeal: the tracking code and, when a phone was given, its last
    four digits."""

    tracking_code = forms.CharField(
        label=_("查询码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": _("请输入查询码。")},
    )
    phone_last4 = forms.CharField(
        label=_("手机号后四位"),
        required=False,
        max_length=4,
        help_text=_("提交时留了手机号才需要填写。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )

    def clean_tracking_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["tracking_code"]).upper()
        if not _TRACKING_CODE.match(code):
            raise forms.ValidationError(_("查询码由数字和字母组成，请核对。"), code="bad_code")
        return code

    def clean_phone_last4(self) -> str:
        digits = self.cleaned_data.get("phone_last4", "").strip()
        if digits and not re.fullmatch(r"\d{4}", digits):
            raise forms.ValidationError(_("请输入4位数字。"), code="bad_last4")
        return digits


class FeedbackForm(forms.Form):
    """The resident's verdict on the answer (评价)."""

    rating = forms.ChoiceField(
        label=_("您对办理结果是否满意？"),
        choices=Feedback.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择一项评价。")},
    )
    resolved = forms.TypedChoiceField(
        label=_("您反映的问题是否已经解决？"),
        choices=[("yes", _("已解决")), ("no", _("未解决"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("意见或建议"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SimilarForm(forms.Form):
    """What the resident has typed so far, to look for open cases about the same problem."""

    text = forms.CharField(max_length=5000, required=False)
    address = forms.CharField(max_length=300, required=False)


class JoinForm(forms.Form):
    """A resident joining an open case as a co-reporter (多人同诉) instead of filing another."""

    tracking_code = forms.CharField(max_length=20)
    text = forms.CharField(max_length=5000, required=False)
    reporter_name = forms.CharField(max_length=100, required=False)
    reporter_phone = forms.CharField(max_length=20, required=False)
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not _TOKEN.match(token):
            raise forms.ValidationError(_("页面已失效，请刷新后重新填写。"), code="bad_token")
        return token

    def clean_reporter_phone(self) -> str:
        return normalise_phone(self.cleaned_data["reporter_phone"])
