"""Template helpers of the channels' pages, and the link from a case to the channel record
it came from (for the workbench's case page: {% load channels %}{% channel_source case %})."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from .. import rules
from ..models import SOURCE_BOX_NOTE, SOURCE_FORUM_ISSUE, SOURCE_IMPORT, SOURCE_SURVEY_ANSWER, SOURCE_VISIT_FINDING
from ..selectors import source_of_case

register = template.Library()


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("channels/_source_link.html", takes_context=True)
def channel_source(context, case) -> dict:
    """Where an appeal came from: the survey, box, forum, visit or import batch, linked when
    the user may see that record."""
    source = source_of_case(case)
    if source is None:
        return {"source": None}
    user = context["request"].user
    obj, kind = source["object"], source["kind"]
    label, url = "", ""
    if kind == SOURCE_SURVEY_ANSWER:
        survey = obj.response.survey
        label = _("问卷“%(title)s”的回答") % {"title": survey.title}
        if rules.can_view(user, survey.owner_unit):
            url = reverse("channels:survey_results", args=[survey.pk]) + f"#a{obj.pk}"
    elif kind == SOURCE_BOX_NOTE:
        label = _("%(box)s的留言") % {"box": obj.box}
        if rules.can_view(user, obj.box.unit):
            url = reverse("channels:box", args=[obj.box_id]) + "?status="
    elif kind == SOURCE_FORUM_ISSUE:
        label = _("%(date)s %(title)s") % {"date": obj.forum.held_on.isoformat(), "title": obj.forum.title}
        if rules.can_view(user, obj.forum.host_unit):
            url = reverse("channels:forum", args=[obj.forum_id])
    elif kind == SOURCE_VISIT_FINDING:
        visit = obj.visit
        label = _("%(date)s 走访 %(place)s") % {"date": f"{visit.visited_at:%Y-%m-%d}", "place": visit.place_masked}
        if rules.can_view(user, visit.community):
            url = reverse("channels:visit", args=[visit.pk])
    elif kind == SOURCE_IMPORT:
        label = _("批量导入：%(file)s") % {"file": obj.file_name}
        if rules.can_import(user):
            url = reverse("channels:import_batch", args=[obj.pk])
    return {"source": source, "label": label, "url": url}


CHANNEL_TOOLS = ("channels", "surveys", "boxes", "forums", "visits", "import")


@register.inclusion_tag("channels/_desk_nav.html", takes_context=True)
def channels_nav(context) -> dict:
    """The workbench sidebar's links to the channels (for templates/desk/base.html)."""
    user = context["request"].user
    return {
        "show": rules.can_use_channels(user) or rules.can_import(user),
        "visits": rules.can_record_visits(user),
        "active": context.get("active_tool") in CHANNEL_TOOLS,
        "active_visit": context.get("active_tool") == "visits",
    }
