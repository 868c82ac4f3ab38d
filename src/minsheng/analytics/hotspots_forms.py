"""Forms of the hotspot and 每月一题 pages: they parse input; the rules are in the selectors
and services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.models import Category
from minsheng.core.models import Unit

from .models import TopicStatus
from .selectors.hotspots import week_start

DEFAULT_WEEKS = 12
MAX_DAYS = 366


class DateInput(forms.DateInput):
    input_type = "date"


class MonthField(forms.CharField):
    """A month written as YYYY-MM (what <input type=month> sends), as its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value.strip()[:7], "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM。")) from None


def _categories():
    return Category.objects.filter(active=True).select_related("parent").order_by("parent__sort_order", "sort_order", "code")


class HotspotFilterForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), required=False, widget=DateInput)
    end = forms.DateField(label=_("结束日期"), required=False, widget=DateInput)
    category = forms.ModelChoiceField(label=_("类别"), queryset=Category.objects.none(), required=False, empty_label=_("全部"))
    street = forms.ModelChoiceField(label=_("街道"), queryset=Unit.objects.none(), required=False, empty_label=_("全部"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self.fields["street"].queryset = Unit.objects.streets().filter(active=True)
        if not self.is_bound:  # show the default period in the inputs
            today = timezone.localdate()
            self.initial.setdefault("end", today)
            self.initial.setdefault("start", week_start(today) - dt.timedelta(weeks=DEFAULT_WEEKS - 1))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("结束日期早于开始日期。"))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("统计区间最长一年。"))
        return data

    def values(self) -> dict:
        """start, end, category, street — the defaults (the last 12 ISO weeks up to today, all
        categories and streets) where the input is missing or wrong."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or week_start(end) - dt.timedelta(weeks=DEFAULT_WEEKS - 1)
        return {"start": start, "end": end, "category": data.get("category"), "street": data.get("street")}


class TopicFilterForm(forms.Form):
    month = MonthField(label=_("月份"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部"))] + list(TopicStatus.choices))

    def values(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"month": data.get("month"), "status": data.get("status") or ""}


class TopicAdoptForm(forms.Form):
    month = MonthField(label=_("月份"))
    category = forms.ModelChoiceField(label=_("问题类别"), queryset=Category.objects.none())
    street = forms.ModelChoiceField(label=_("街道"), queryset=Unit.objects.none())
    community = forms.ModelChoiceField(label=_("社区"), queryset=Unit.objects.none(), required=False, empty_label=_("（街道层面）"))
    owner_unit = forms.ModelChoiceField(label=_("责任单位"), queryset=Unit.objects.none())
    title = forms.CharField(label=_("题目"), max_length=120, required=False)
    plan = forms.CharField(label=_("跟进计划"), widget=forms.Textarea(attrs={"rows": 5}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self.fields["street"].queryset = Unit.objects.streets().filter(active=True)
        self.fields["community"].queryset = Unit.objects.communities().filter(active=True).select_related("parent")
        self.fields["owner_unit"].queryset = Unit.objects.handling_units().order_by("kind", "sort_order", "code")


class TopicEditForm(forms.Form):
    title = forms.CharField(label=_("题目"), max_length=120, required=False)
    plan = forms.CharField(label=_("跟进计划"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    owner_unit = forms.ModelChoiceField(label=_("责任单位"), queryset=Unit.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = Unit.objects.handling_units().order_by("kind", "sort_order", "code")


class TopicStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=TopicStatus.choices)
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class TopicNoteForm(forms.Form):
    text = forms.CharField(label=_("进展"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class TopicLinkForm(forms.Form):
    tracking_code = forms.CharField(label=_("查询码"), max_length=32, required=False)
