"""Staff pages of suggestion boxes: the boxes, their notes and moderation, paper entry, poster."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.cases.privacy import may_reveal

from .. import rules, selectors, services
from ..choices import NoteStatus
from ..forms import ModerateForm, NoteFilterForm, PaperBatchForm, PaperNoteFormSet
from .common import channels_staff, forbidden, object_or_404, run

PAGE_SIZE = 30


@channels_staff
@require_GET
def box_list(request):
    boxes = list(selectors.boxes_visible_to(request.user).order_by("unit__kind", "unit__parent__sort_order", "unit__sort_order"))
    counts = selectors.box_counts(boxes)
    rows = [(box, counts.get(box.pk, {})) for box in boxes]
    return render(request, "channels/box_list.html", {
        "rows": rows, "missing": selectors.boxes_missing(request.user), "pending_total": sum(c.get("pending", 0) for _b, c in rows),
        "active_tool": "boxes",
    })


@channels_staff
@require_POST
def boxes_open(request):
    units = selectors.boxes_missing(request.user)
    opened = run(request, lambda: services.boxes_open(acting_user=request.user, units=units))
    if opened:
        messages.success(request, _("已开设 %(n)d 个意见箱。") % {"n": len(opened) if isinstance(opened, list) else 0})
    return redirect("channels:boxes")


def _box(request, pk: int):
    return object_or_404(selectors.boxes_visible_to(request.user), pk=pk)


@channels_staff
@require_GET
def box_detail(request, pk: int):
    box = _box(request, pk)
    return _notes_page(request, selectors.notes_visible_to(request.user).filter(box=box), box=box)


@channels_staff
@require_GET
def notes(request):
    """Notes of every box in scope, pending ones first: the moderation queue."""
    return _notes_page(request, selectors.notes_visible_to(request.user), box=None)


def _notes_page(request, notes, *, box):
    form = NoteFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    if status:
        notes = notes.filter(status=status)
    elif "status" not in request.GET:
        notes = notes.filter(status=NoteStatus.PENDING)
    page = Paginator(notes.order_by("-submitted_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "channels/box_detail.html", {
        "box": box, "page": page, "filter_form": form, "moderate_form": ModerateForm(), "active_tool": "boxes",
        "can_moderate": (rules.can_moderate_box(request.user, box) if box else rules.may_write(request.user)),
        "can_reveal": may_reveal(request.user),
        "public_url": request.build_absolute_uri(reverse("channels:box_note", args=[box.token])) if box else "",
    })


@channels_staff
@require_POST
def note_moderate(request, pk: int):
    note = object_or_404(selectors.notes_visible_to(request.user), pk=pk)
    if not rules.can_moderate_box(request.user, note.box):
        return forbidden(request, _("您无权审核该意见箱的留言。"))
    form = ModerateForm(request.POST)
    if form.is_valid():
        result = run(request, lambda: services.note_moderate(note=note, acting_user=request.user, decision=form.cleaned_data["decision"],
                                                             comment=form.cleaned_data["comment"]))
        if result:
            if result.case_id:
                messages.success(request, _("已转为诉求 %(code)s。") % {"code": result.case.tracking_code})
            else:
                messages.success(request, _("已标记为“%(status)s”。") % {"status": result.get_status_display()})
    else:
        messages.error(request, _("请选择审核结果。"))
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/desk/channels/") else reverse("channels:box", args=[note.box_id]))


@channels_staff
@require_http_methods(["GET", "POST"])
def paper_entry(request, pk: int):
    """Enter the paper notes taken out of the box (开箱登记), several at a time."""
    box = _box(request, pk)
    if not rules.can_moderate_box(request.user, box):
        return forbidden(request, _("您无权为该意见箱登记留言。"))
    form = PaperBatchForm(request.POST or None)
    formset = PaperNoteFormSet(request.POST or None, prefix="notes")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        notes = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("text")]
        batch = run(request, lambda: services.notes_enter_paper(box=box, acting_user=request.user, collected_on=form.cleaned_data["collected_on"],
                                                                 notes=notes))
        if batch:
            messages.success(request, _("已登记 %(n)d 条纸质留言，请逐条审核。") % {"n": len(notes)})
            return redirect("channels:box", pk=box.pk)
    return render(request, "channels/paper_entry.html", {"box": box, "form": form, "formset": formset, "active_tool": "boxes"})


@channels_staff
@require_POST
def box_active(request, pk: int):
    box = _box(request, pk)
    active = request.POST.get("active") == "1"
    run(request, lambda: services.box_set_active(box=box, acting_user=request.user, active=active), _("已启用。") if active else _("已停用。"))
    return redirect("channels:box", pk=box.pk)


@channels_staff
@require_GET
def box_poster(request, pk: int):
    box = _box(request, pk)
    return render(request, "channels/poster.html", {
        "title": str(box), "subtitle": box.unit.parent.name if box.unit.parent_id and box.unit.kind == "community" else "",
        "intro": _("您对社区和政府工作有什么意见和建议，遇到什么难事、烦心事，都可以告诉我们。可以匿名，我们会认真办理。"),
        "qr_url": reverse("channels:box_qr", args=[box.token]),
        "public_url": request.build_absolute_uri(reverse("channels:box_note", args=[box.token])),
        "call": _("扫码留言"), "back": reverse("channels:box", args=[box.pk]),
    })
