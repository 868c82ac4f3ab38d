"""Forms of the workbench: the case-list filter (shared by the list page and the export), one
small form per case action, bulk dispatch, and hotline entry. Forms only parse and check
input; the services decide and write."""

from __future__ import annotations

from functools import partial

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from minsheng.cases.choices import CaseState, Channel, DueFlag, Feedback, Urgency
from minsheng.cases.models import Case, Category
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit

from . import selectors

ALL = [("", _("全部"))]


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{conditional_escape("%s" % value)}"'
        for name, value in attrs.items() if value is not False
    )


class _OptionsWrittenHere:
    """A <select> whose options are written out here rather than through one template
    include per option: the unit lists have about two hundred options, and the template engine
    spent some 50 µs on each — a third of a queue page's CPU, more on a case page, which shows
    the list in several forms. The markup is that of Django's select.html and
    select_option.html, character for character."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                html.append(format_html('\n  <option value="{}"', "%s" % option["value"]))
                html.append(_attrs(option["attrs"]))
                html.append(format_html(">{}</option>\n", option["label"]))
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


class LongSelect(_OptionsWrittenHere, forms.Select):
    pass


class LongSelectMultiple(_OptionsWrittenHere, forms.SelectMultiple):
    pass


def _units(kinds=selectors.HANDLING_KINDS):
    return Unit.objects.filter(kind__in=kinds, active=True)


def _with_blank(choices):
    return lambda: [("", "———"), *choices()]


class UnitField(forms.ModelChoiceField):
    """A handling unit, shown grouped by kind; validated against the queryset. The choices
    are a callable, read when the form is rendered, not when this module is imported; a
    `SharedOptionsForm` points them at the page's `SelectOptions`."""

    widget = LongSelect

    def __init__(self, *, kinds=selectors.HANDLING_KINDS, **kwargs):
        super().__init__(queryset=_units(kinds), **kwargs)
        self.kinds = kinds
        self.choices = _with_blank(partial(selectors.unit_choices, kinds=kinds))

    def read_options_from(self, options: selectors.SelectOptions) -> None:
        self.choices = _with_blank(partial(options.units, self.kinds))


class UnitsField(forms.ModelMultipleChoiceField):
    widget = LongSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(queryset=_units(), **kwargs)
        self.choices = selectors.unit_choices

    def read_options_from(self, options: selectors.SelectOptions) -> None:
        self.choices = options.units


class SubcategoryField(forms.ModelChoiceField):
    widget = LongSelect

    def __init__(self, **kwargs):
        super().__init__(queryset=Category.objects.filter(parent__isnull=False, active=True), to_field_name="code", **kwargs)
        self.choices = _with_blank(partial(selectors.category_choices, subcategories_only=True))

    def read_options_from(self, options: selectors.SelectOptions) -> None:
        self.choices = _with_blank(partial(options.categories, subcategories_only=True))


class SharedOptionsForm(forms.Form):
    """A form whose unit and category fields read their options from `select_options`: one
    `SelectOptions` for all the forms of a page reads each list once. Without one, the form
    gets its own."""

    def __init__(self, *args, select_options: selectors.SelectOptions | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.select_options = select_options or selectors.SelectOptions()
        for field in self.fields.values():
            if isinstance(field, (UnitField, UnitsField, SubcategoryField)):
                field.read_options_from(self.select_options)


def _reason(label=_("说明"), required=True, rows=3):
    return forms.CharField(label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": rows}))


# ---------------------------------------------------------------- the case list


class CaseFilterForm(SharedOptionsForm):
    """The filters of a case list. The same form feeds the list page and its export, so the
    file holds exactly the rows the page shows."""

    q = forms.CharField(label=_("关键词"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("内容、地址或查询码"), "type": "search"}))
    state = forms.ChoiceField(label=_("状态"), required=False, choices=ALL + CaseState.choices)
    category = forms.ChoiceField(label=_("分类"), required=False, widget=LongSelect)
    street = forms.ChoiceField(label=_("街道"), required=False)
    unit = forms.ChoiceField(label=_("承办单位"), required=False, widget=LongSelect)
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=ALL + Channel.choices)
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=ALL + Urgency.choices)
    flag = forms.ChoiceField(label=_("预警"), required=False, choices=ALL + [(DueFlag.YELLOW, _("黄牌")), (DueFlag.RED, _("红牌"))])
    date_from = forms.DateField(label=_("反映日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[
        ("-submitted", _("反映时间（新→旧）")), ("submitted", _("反映时间（旧→新）")),
        ("due", _("办结期限（近→远）")), ("-due", _("办结期限（远→近）")),
    ])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self._set_choices()

    FILTERS = ("q", "state", "category", "street", "unit", "channel", "urgency", "flag", "date_from", "date_to")

    def _set_choices(self):
        self.fields["category"].choices = ALL + self.select_options.categories(subcategories_only=False)
        self.fields["street"].choices = ALL + self.select_options.streets()
        self.fields["unit"].choices = ALL + self.select_options.unit_keys()

    def filters(self) -> dict:
        """The valid filters (an invalid one is ignored, and shown with its error)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in self.FILTERS if data.get(name) not in (None, "")}

    def sort_key(self) -> str:
        if self.is_bound:
            self.is_valid()
        return (getattr(self, "cleaned_data", {}) or {}).get("sort") or "-submitted"

    def active_count(self) -> int:
        return len(self.filters())


class BulkDispatchForm(SharedOptionsForm):
    """Several cases to one unit. Each checkbox carries "pk:version" so each dispatch is
    checked against the version the dispatcher saw."""

    cases = forms.MultipleChoiceField(label=_("案件"), required=True, choices=())
    unit = UnitField(label=_("承办单位"))

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if data is not None:
            self.fields["cases"].choices = [(v, v) for v in data.getlist("cases")]

    def clean_cases(self) -> list[tuple[int, int]]:
        items = []
        for value in self.cleaned_data["cases"]:
            pk, _sep, version = value.partition(":")
            if not pk.isdigit() or not version.isdigit():
                raise forms.ValidationError(_("案件选择有误。"))
            items.append((int(pk), int(version)))
        if len(items) > 200:
            raise forms.ValidationError(_("一次最多派发200件。"))
        return items


# ---------------------------------------------------------------- case actions


class ActionForm(SharedOptionsForm):
    """Base of the case-action forms: every one carries the case version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    danger = False
    help_text = ""

    def __init__(self, data=None, *, case: Case, user, action: str, **kwargs):
        self.case, self.user, self.action = case, user, action
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        kwargs.setdefault("label_suffix", "")
        initial = {"version": case.version, **self.initial_for(case)}
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(data, initial=initial, **kwargs)
        self.setup()

    def initial_for(self, case: Case) -> dict:
        return {}

    def setup(self) -> None:
        """Narrow the fields to this case and user."""

    @property
    def has_fields(self) -> bool:
        return any(not f.is_hidden for f in self)


class _ClassificationMixin(forms.Form):
    category = SubcategoryField(label=_("分类（小类）"), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, required=False)
    street = UnitField(label=_("街道"), kinds=(UnitKind.STREET,), required=False)
    community = UnitField(label=_("社区/村"), kinds=(UnitKind.COMMUNITY,), required=False)

    def classification_initial(self, case: Case) -> dict:
        return {
            "category": case.category.code if case.category_id and case.category.is_subcategory else None,
            "urgency": case.urgency,
            "street": case.street_id,
            "community": case.community_id,
        }


class AcceptForm(_ClassificationMixin, ActionForm):
    """受理, correcting the category, urgency and place where the intake got them wrong."""

    field_order = ["category", "urgency", "street", "community"]

    def initial_for(self, case):
        return self.classification_initial(case)


class RejectForm(ActionForm):
    reason = _reason(_("不予受理理由"))
    danger = True


class DispatchForm(_ClassificationMixin, ActionForm):
    """派单: the main unit (preselected from the routing rule), co-units, and the
    classification the deadlines and statistics will use."""

    unit = UnitField(label=_("主办单位"))
    co_units = UnitsField(label=_("协办单位"), required=False)
    reason = _reason(_("派单意见"), required=False, rows=2)
    field_order = ["unit", "co_units", "category", "urgency", "street", "community", "reason"]

    def initial_for(self, case):
        default = selectors.routing_default(case)
        return {**self.classification_initial(case), "unit": default.pk if default else None}


class MergeForm(ActionForm):
    master = forms.CharField(label=_("主案件查询码"), max_length=16)
    reason = _reason(_("并案说明"), required=False, rows=2)
    danger = True

    def clean_master(self) -> Case:
        code = self.cleaned_data["master"].strip().upper()
        master = Case.objects.visible_to(self.user).filter(tracking_code=code).first()
        if master is None:
            raise forms.ValidationError(_("未找到查询码为 %(code)s 的案件。"), params={"code": code})
        return master


class DelegateForm(ActionForm):
    community = forms.ModelChoiceField(label=_("下派至社区"), queryset=Unit.objects.none())
    reason = _reason(_("下派说明"), required=False, rows=2)

    def setup(self):
        self.fields["community"].queryset = Unit.objects.communities().filter(parent_id=self.user.unit_id, active=True).order_by("sort_order", "code")


class AcknowledgeForm(ActionForm):
    pass


class ContactForm(ActionForm):
    note = _reason(_("联系情况"))


class ReplyForm(ActionForm):
    reply_text = _reason(_("答复内容"), rows=5)
    help_text = _("写明调查核实和办理的情况、结果；审核通过后群众可见。")


class ReturnForm(ActionForm):
    reason = _reason(_("退单理由"))
    danger = True
    help_text = _("非本单位职责的，说明应由哪个单位办理。")


class RequestExtensionForm(ActionForm):
    working_days = forms.IntegerField(label=_("延期工作日"), min_value=1, max_value=30, initial=3)
    reason = _reason(_("延期理由"))


class DecideExtensionForm(ActionForm):
    decision = forms.ChoiceField(label=_("审批意见"), choices=[("approve", _("同意延期")), ("refuse", _("不同意"))],
                                 widget=forms.RadioSelect)
    note = _reason(_("审批说明"), required=False, rows=2)

    def setup(self):
        self.extension = selectors.pending_extension(self.case)

    def clean(self):
        data = super().clean()
        if self.extension is None:
            raise forms.ValidationError(_("没有待审批的延期申请。"))
        data["extension"] = self.extension
        return data


class ApproveForm(ActionForm):
    pass


class SendBackForm(ActionForm):
    reason = _reason(_("退回理由"))
    danger = True


class AddCoUnitForm(ActionForm):
    unit = UnitField(label=_("协办单位"))


class SuperviseForm(ActionForm):
    level = forms.TypedChoiceField(label=_("督办级别"), coerce=int, choices=[(1, _("一般督办")), (2, _("重点督办")), (3, _("挂牌督办"))])
    reason = _reason(_("督办意见"))

    def initial_for(self, case):
        return {"level": min(3, case.supervision_level + 1)}


class FeedbackCloseForm(ActionForm):
    """An operator records the resident's rating from a return call (回访)."""

    rating = forms.ChoiceField(label=_("群众评价"), choices=[(Feedback.SATISFIED, Feedback.SATISFIED.label), (Feedback.BASIC, Feedback.BASIC.label)],
                               widget=forms.RadioSelect, initial=Feedback.SATISFIED)
    comment = _reason(_("评价意见"), required=False, rows=2)


class FeedbackReopenForm(ActionForm):
    comment = _reason(_("不满意的原因"), required=False, rows=2)
    danger = True


class NoteForm(ActionForm):
    text = _reason(_("备注内容"), rows=2)


# ---------------------------------------------------------------- hotline


class HotlineForm(SharedOptionsForm):
    """A call taken by an operator. `token` is issued with the empty form and makes a
    double-submitted form create one case, not two."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    reporter_phone = forms.CharField(label=_("来电号码"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    text = _reason(_("诉求内容"), rows=5)
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    reporter_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    reporter_id_number = forms.CharField(label=_("身份证号（需要时）"), max_length=18, required=False,
                                         widget=forms.TextInput(attrs={"autocomplete": "off"}))
    category = SubcategoryField(label=_("分类（小类）"), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not token.replace("-", "").isalnum():
            raise forms.ValidationError(_("表单已失效，请重新填写。"))
        return token



# ---------------------------------------------------------------- audit log, privacy, account


class AuditFilterForm(forms.Form):
    """The audit page's filter, shared by the page and its export."""

    group = forms.ChoiceField(label=_("类别"), required=False, choices=())
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    target = forms.CharField(label=_("对象"), required=False, max_length=200)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from minsheng.core.selectors import AUDIT_GROUPS

        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [*ALL, *AUDIT_GROUPS.items()]

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class ErasureForm(forms.Form):
    """A resident's request to erase their personal data, found by phone or tracking code."""

    phone = forms.CharField(label=_("手机号"), required=False, max_length=20)
    tracking_code = forms.CharField(label=_("或查询码"), required=False, max_length=20)
    reason = forms.CharField(label=_("删除依据（申请编号、来电记录等）"), max_length=200)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("phone") or cleaned.get("tracking_code")):
            raise forms.ValidationError(_("请填写手机号或查询码。"))
        return cleaned


class CodeForm(forms.Form):
    """Six digits from the authenticator app."""

    code = forms.CharField(label=_("动态验证码"), max_length=8, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}))
