"""The dashboard (数据看板), its drill-down lists (穿透) and their Excel ledgers (台账).

Periods in URLs: `?month=YYYY-MM`, or `?start=YYYY-MM-DD&end=YYYY-MM-DD` with both days
included (the selectors take the half-open [start, end + 1 day)). Without either, the
current month."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from minsheng.desk.views.common import client_ip

from .. import ledgers
from ..selectors import dashboard

PAGE_SIZE = 50
MAX_RANGE_DAYS = 366 * 2
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("月份"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    start = forms.DateField(label=gettext_lazy("自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_month(self):
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        try:
            month = dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM，例如 2026-10。")) from None
        if not 2000 <= month.year <= 2100:
            raise forms.ValidationError(_("月份超出范围。"))
        return month

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError(_("请同时填写起止日期。"))
        if start and end:
            if end < start:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(_("统计区间最长两年。"))
            if not (2000 <= start.year and end.year <= 2100):
                raise forms.ValidationError(_("日期超出范围。"))
        return data

    def period(self) -> dashboard.Period:
        data = self.cleaned_data
        if data.get("start") and data.get("end"):
            return dashboard.period_of(start=data["start"], end=data["end"] + dt.timedelta(days=1))
        return dashboard.period_of(month=data.get("month") or timezone.localdate().replace(day=1))


def period_query(period: dashboard.Period) -> dict[str, str]:
    """The URL parameters of a period, as the forms read them."""
    if period.month is not None:
        return {"month": f"{period.month:%Y-%m}"}
    return {"start": period.start.isoformat(), "end": period.last_day.isoformat()}


def drill_url(metric: str, period: dashboard.Period, unit_id: int | None = None) -> str:
    params = {"metric": metric, "start": period.start.isoformat(), "end": period.last_day.isoformat()}
    if unit_id is not None:
        params["unit"] = str(unit_id)
    return f"{reverse('analytics:drilldown')}?{urlencode(params)}"


def _forbidden(request, message: str | None = None):
    return render(request, "desk/forbidden.html", {"message": message or _("您的角色无权查看数据看板。")}, status=403)


def _bad_request(request, errors):
    return render(request, "analytics/dashboard_error.html", {"errors": errors, "active_tool": "dashboard"}, status=400)


def _briefing_url(period: dashboard.Period) -> str:
    base = reverse("analytics:briefing")
    month = period.month or period.last_day.replace(day=1)
    return f"{base}?{urlencode({'month': f'{month:%Y-%m}'})}"


@login_required
@require_GET
def dashboard_page(request):
    if not dashboard.may_see_dashboard(request.user):
        return _forbidden(request)
    form = PeriodForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _bad_request(request, form.errors)
    if not request.GET:
        form = PeriodForm({})
        form.is_valid()
    period = form.period()
    overview = dashboard.district_overview(user=request.user, month=period.start, start=period.start, end=period.end)
    tables = dashboard.ranking_tables(user=request.user, period=period)
    streets = dashboard.street_map_values(tables)
    today = overview["today"]
    for entry in overview["categories"] + overview["channels"]:
        entry["url"] = drill_url(entry["metric"], period)
    for street in streets:
        street["url"] = drill_url("received", period, street["unit"])
    figure_links = {key: drill_url(key, period) for key in dashboard.METRICS}
    tiles_today = [
        (_("今日来件"), today["intake"], _today_url("intake", today)),
        (_("今日办结"), today["closed"], _today_url("closed", today)),
        (_("今日新增超期"), today["overdue"], _today_url("overdue", today)),
        (_("当前超期未办结"), today["open_overdue"], _today_url("open_overdue", today)),
    ]
    r = overview["rates"]
    rate_tiles = [
        (_("响应率"), r.response_rate, figure_links["responded"], _("按时响应 %(n)d / 派单 %(d)d") % {"n": r.responded, "d": r.dispatches}),
        (_("解决率"), r.resolution_rate, figure_links["resolved"], _("已解决 %(n)d / 评价 %(d)d") % {"n": r.resolved, "d": r.feedbacks}),
        (_("满意率"), r.satisfaction_rate, figure_links["satisfied"], _("满意及基本满意 %(n)d / 评价 %(d)d") % {"n": r.satisfied + r.basic, "d": r.feedbacks}),
        (_("按期办结率"), r.on_time_rate, figure_links["replied_on_time"], _("按期答复 %(n)d / 答复 %(d)d") % {"n": r.replies_on_time, "d": r.replies}),
    ]
    count_tiles = [(_("来件量"), overview["intake"], figure_links["intake"]), (_("办结"), overview["closed"], figure_links["closed"])]
    count_tiles += [(dashboard.METRICS[key].label, value, figure_links[key]) for key, value in overview["figures"].items()]
    trend = [
        {"month": f"{t['month']:%Y-%m}", "intake": t["intake"], "received": t["received"],
         "resolution": _pct(t["resolution_rate"]), "satisfaction": _pct(t["satisfaction_rate"]),
         "url": drill_url("received", dashboard.period_of(month=t["month"]))}
        for t in overview["trend"]
    ]
    ranking = []
    for table in tables:
        red = {row.unit.pk for row in table.red}
        black = {row.unit.pk for row in table.black}
        ranking.append({
            "table": table,
            "export": "ranking-" + table.kind,
            "rows": [{"row": row, "red": row.unit.pk in red, "black": row.unit.pk in black,
                      "url": drill_url("received", period, row.unit.pk)} for row in table.rows],
            "red": [{"row": row, "url": drill_url("received", period, row.unit.pk)} for row in table.red],
            "black": [{"row": row, "url": drill_url("received", period, row.unit.pk)} for row in table.black],
        })
    query = period_query(period)
    chart_data = {
        "trend": trend,
        "categories": overview["categories"],
        "channels": overview["channels"],
        "streets": streets,
        "mapMetrics": {key: str(label) for key, label in dashboard.MAP_METRICS.items()},
        "labels": {"intake": _("来件量"), "received": _("收件量"), "resolution": _("解决率"), "satisfaction": _("满意率"),
                   "noData": _("无数据"), "outOfScope": _("不在本单位范围")},
    }
    return render(request, "analytics/dashboard.html", {
        "active_tool": "dashboard",
        "form": form,
        "period": period,
        "query": urlencode(query),
        "scope": overview["scope"],
        "overview": overview,
        "tiles_today": tiles_today,
        "rate_tiles": rate_tiles,
        "count_tiles": count_tiles,
        "ranking": ranking,
        "chart_data": chart_data,
        "show_map": bool(streets),  # the district's streets, or a street office's own
        "briefing_url": _briefing_url(period) if dashboard.may_download_briefing(request.user) else None,
        "prev_month": _month_query(period, -1),
        "next_month": _month_query(period, 1),
    })


def _pct(value):
    return round(100 * value, 1) if value is not None else None


def _today_url(metric: str, today: dict) -> str:
    params = {"metric": metric, "start": today["date"].isoformat(), "end": today["date"].isoformat()}
    return f"{reverse('analytics:drilldown')}?{urlencode(params)}"


def _month_query(period: dashboard.Period, step: int) -> str:
    month = (period.month or period.last_day.replace(day=1))
    index = month.year * 12 + month.month - 1 + step
    return urlencode({"month": f"{index // 12:04d}-{index % 12 + 1:02d}"})


@login_required
@require_GET
def dashboard_export(request):
    if not dashboard.may_see_dashboard(request.user):
        return _forbidden(request)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form.errors)
    period = form.period()
    only = request.GET.get("table") or None
    try:
        content = ledgers.dashboard_export(acting_user=request.user, period=period, only=only, ip=client_ip(request))
    except ValueError as error:
        return _bad_request(request, {"table": [str(error)]})
    name = f"{_('数据看板')}-{only or _('全部')}-{ledgers._period_text(period)}.xlsx"
    return _xlsx(content, f"dashboard-{only or 'all'}.xlsx", name)


def _xlsx(content: bytes, ascii_name: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


class DrillForm(forms.Form):
    metric = forms.CharField(max_length=60)
    unit = forms.IntegerField(required=False, min_value=1)
    start = forms.DateField()
    end = forms.DateField()

    def clean(self):
        data = super().clean()
        metric = data.get("metric")
        if metric:
            try:
                data["label"] = dashboard.metric_label(metric)
            except ValueError:
                self.add_error("metric", _("未知的统计指标。"))
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(_("统计区间最长两年。"))
        return data


def _drill_input(request):
    form = DrillForm(request.GET)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, {"metric": data["metric"], "unit_id": data.get("unit"), "start": data["start"], "end": data["end"] + dt.timedelta(days=1)}


def _drill(request, read):
    """The drill-down list and its ledger alike: the permission, the input, then `read(args)`;
    returns (form, args, result) or an error response."""
    if not dashboard.may_see_dashboard(request.user):
        return _forbidden(request)
    form, args = _drill_input(request)
    if args is None:
        return _bad_request(request, form.errors)
    try:
        return form, args, read(args)
    except PermissionDenied:
        return _forbidden(request, _("该单位不在您的数据范围内。"))
    except ValueError as error:
        return _bad_request(request, {"metric": [str(error)]})


@login_required
@require_GET
def drilldown(request):
    outcome = _drill(request, lambda args: dashboard.cases_behind(user=request.user, **args))
    if isinstance(outcome, HttpResponse):
        return outcome
    form, args, rows = outcome
    with dashboard.tuned_reads(rows.db):
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    unit = None
    if args["unit_id"]:
        from minsheng.core.models import Unit

        unit = Unit.objects.get(pk=args["unit_id"])
    back = {"start": args["start"].isoformat(), "end": (args["end"] - dt.timedelta(days=1)).isoformat()}
    first, following = dashboard.month_bounds(args["start"])
    if (args["start"], args["end"]) == (first, following):
        back = {"month": f"{first:%Y-%m}"}
    return render(request, "analytics/drilldown.html", {
        "active_tool": "dashboard",
        "label": form.cleaned_data["label"],
        "metric": args["metric"],
        "unit": unit,
        "start": args["start"],
        "last_day": args["end"] - dt.timedelta(days=1),
        "page": page,
        "is_event": args["metric"] in dashboard.METRICS and dashboard.METRICS[args["metric"]].kind == "event",
        "back_query": urlencode(back),
    })


@login_required
@require_GET
def drilldown_export(request):
    outcome = _drill(request, lambda args: ledgers.drilldown_export(acting_user=request.user, ip=client_ip(request), **args))
    if isinstance(outcome, HttpResponse):
        return outcome
    form, args, (content, _count) = outcome
    name = f"{form.cleaned_data['label']}-{args['start']:%Y%m%d}-{args['end'] - dt.timedelta(days=1):%Y%m%d}.xlsx"
    return _xlsx(content, "drilldown.xlsx", name)
