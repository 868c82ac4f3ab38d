"""The case page and its actions. Each action posts to `case_act`, which looks the action up
in `desk.actions.ACTIONS` (form + service call); errors come back on the same page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django import forms
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.cases import selectors as case_selectors
from minsheng.cases import services as case_services
from minsheng.cases.errors import ActionNotAllowed, InvalidInput, StaleCase
from minsheng.cases.models import Case
from minsheng.cases.privacy import case_personal_data_reveal, may_reveal
from minsheng.cases.workflow import STAFF_ACTIONS, TRANSITIONS
from minsheng.core.calendar import CalendarOutOfRange

from .. import selectors, services
from ..actions import ACTIONS, PRIMARY
from .common import client_ip


def _case_or_404(user, pk: int) -> Case:
    try:
        return case_selectors.case_for_user(user=user, pk=pk)
    except Case.DoesNotExist:
        raise Http404("no such case") from None


def _ordered(actions: list[str]) -> list[str]:
    order: dict[str, int] = {}
    for i, a in enumerate((*PRIMARY, *STAFF_ACTIONS)):
        order.setdefault(a, i)
    return sorted(actions, key=lambda a: order.get(a, 99))


#: URL slug → Case field of the personal data a case page can show unmasked (see cases.privacy).
PERSONAL_FIELDS = {"name": "reporter_name", "phone": "reporter_phone", "id-number": "reporter_id_number", "address": "address"}


def _personal_item(case: Case, slug: str, *, user, revealed: str = "") -> dict:
    field = PERSONAL_FIELDS[slug]
    masked = {"reporter_name": case.name_masked, "reporter_phone": case.phone_masked,
              "reporter_id_number": case.id_number_masked, "address": case.address_masked}[field]
    return {"slug": slug, "masked": masked, "value": revealed, "has": bool(getattr(case, field)),
            "can_reveal": bool(getattr(case, field)) and may_reveal(user)}


def _render_case(request, case: Case, *, bound=None, status: int = 200, alert: str = "", lost: dict | None = None,
                 revealed_phone: str = "", revealed: dict | None = None):
    user = request.user
    allowed = _ordered(case_services.allowed_actions(case=case, actor=user))
    options = bound.select_options if bound is not None else selectors.SelectOptions()
    action_forms = []
    for action in allowed:
        if bound is not None and bound.action == action:
            form = bound
        else:
            form = ACTIONS[action].form(case=case, user=user, action=action, select_options=options)
        action_forms.append({"action": action, "label": TRANSITIONS[action].label, "form": form,
                             "primary": action in PRIMARY, "open": bound is not None and bound.action == action})
    if lost and bound is not None and bound.action in allowed:
        lost = None  # the form on the page holds what the user typed
    timeline = list(case_selectors.case_timeline(case=case, public=False))
    context = {
        "case": case,
        "action_forms": action_forms,
        "allowed": set(allowed),
        "timeline": timeline,
        "unit_names": selectors.unit_names() if any(e.data.get("co_units") for e in timeline) else {},
        "history": selectors.caller_history_visible(user=user, phone=case.reporter_phone, exclude_pk=case.pk),
        "co_units": selectors.co_units(case),
        "assignments": selectors.assignment_history(case),
        "extensions": case.extensions.select_related("unit", "requested_by", "decided_by").order_by("requested_at"),
        "attachments": case.attachments.order_by("created_at"),
        "co_reporters": case.co_reporters.order_by("joined_at"),
        "merged_cases": case.merged_cases.only("pk", "tracking_code", "text"),
        "merged_into": case.merged_into,
        "panel": selectors.dispatch_panel(case),
        "routing_default": selectors.routing_default(case),
        "can_reveal": bool(case.reporter_phone) and may_reveal(user),
        "personal": {slug.replace("-", "_"): _personal_item(case, slug, user=user, revealed=(revealed or {}).get(slug, ""))
                     for slug in PERSONAL_FIELDS if slug != "phone"},
        "revealed_phone": revealed_phone,
        "alert": alert,
        "lost": lost,
    }
    return render(request, "desk/case_detail.html", context, status=status)


@login_required
@require_GET
def case_detail(request, pk: int):
    return _render_case(request, _case_or_404(request.user, pk))


def _posted_values(form) -> dict:
    """What the user typed into an action form, to put back after a conflict."""
    values = {}
    for name in form.fields:
        if name == "version":
            continue
        items = form.data.getlist(name)
        if items:
            values[name] = items if len(items) > 1 else items[0]
    return values


@login_required
@require_POST
def case_act(request, pk: int, action: str):
    case = _case_or_404(request.user, pk)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("unknown action")
    form = spec.form(request.POST, case=case, user=request.user, action=action)
    version = request.POST.get("version", "")
    try:
        if not version.isdigit() or int(version) != case.version:
            raise StaleCase()
        why = case_services.refusal(request.user, action, case)
        if why:
            raise ActionNotAllowed(why)
        if not form.is_valid():
            return _render_case(request, case, bound=form, status=400)
        spec.perform(case=case, user=request.user, version=int(version), data=form.cleaned_data)
    except StaleCase as exc:
        return _stale(request, pk, action, form, exc.message)
    except ActionNotAllowed as exc:
        return render(request, "desk/forbidden.html", {"message": exc.message, "case": case}, status=403)
    except (InvalidInput, CalendarOutOfRange) as exc:
        form.add_error(None, getattr(exc, "message", str(exc)))
        return _render_case(request, case, bound=form, status=400)
    messages.success(request, _("已完成“%(label)s”。") % {"label": TRANSITIONS[action].label})
    return redirect("desk:case", pk=pk)


def _stale(request, pk: int, action: str, form, message: str):
    """Someone changed the case first: show the case as it is now, with what the user typed
    put back into the form (or shown, when the action is no longer possible)."""
    fresh = _case_or_404(request.user, pk)
    values = _posted_values(form)
    again = ACTIONS[action].form(case=fresh, user=request.user, action=action, initial=values)
    texts = [values[name] for name, field in form.fields.items() if isinstance(field, forms.CharField) and name in values and values[name]]
    lost = {"label": TRANSITIONS[action].label, "values": [str(v) for v in texts]}
    return _render_case(request, fresh, bound=again, status=409, alert=message, lost=lost)


@login_required
@require_POST
def reveal_phone(request, pk: int):
    case = _case_or_404(request.user, pk)
    try:
        phone = services.case_phone_reveal(acting_user=request.user, case=case, ip=client_ip(request))
    except ActionNotAllowed as exc:
        return render(request, "desk/forbidden.html", {"message": exc.message, "case": case}, status=403)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("desk:case", pk=pk)
    if request.htmx:
        return render(request, "desk/_phone.html", {"case": case, "revealed_phone": phone, "can_reveal": True})
    return _render_case(request, case, revealed_phone=phone)


@login_required
@require_POST
def reveal(request, pk: int, field: str):
    """Show one personal field unmasked (an explicit, audited act; see cases.privacy)."""
    if field not in PERSONAL_FIELDS:
        raise Http404("unknown field")
    case = _case_or_404(request.user, pk)
    try:
        value = case_personal_data_reveal(acting_user=request.user, case=case, field=PERSONAL_FIELDS[field], ip=client_ip(request))
    except ActionNotAllowed as exc:
        return render(request, "desk/forbidden.html", {"message": exc.message, "case": case}, status=403)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("desk:case", pk=pk)
    if field == "phone":
        if request.htmx:
            return render(request, "desk/_phone.html", {"case": case, "revealed_phone": value, "can_reveal": True})
        return _render_case(request, case, revealed_phone=value)
    if request.htmx:
        return render(request, "desk/_reveal.html", {"case": case, "item": _personal_item(case, field, user=request.user, revealed=value)})
    return _render_case(request, case, revealed={field: value})
