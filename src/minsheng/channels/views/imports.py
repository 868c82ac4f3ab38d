"""Staff pages of the bulk import: upload → row-by-row check → confirm → import step by step
with a progress bar (each step is one request, driven by htmx; a button without it)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.core.services import audit_record

from .. import rules, selectors, services
from ..choices import ImportRowStatus, ImportStatus
from ..forms import ImportStartForm, ImportUploadForm
from ..importing import COLUMNS, report_workbook, template_workbook
from .common import client_ip, forbidden, object_or_404, run, xlsx_response


def importer(view):
    """Only the command centre's roles import spreadsheets."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not rules.can_import(request.user):
            return forbidden(request, _("只有受理员、派单员和管理员可以批量导入诉求。"))
        return view(request, *args, **kwargs)

    return wrapped


@importer
@require_http_methods(["GET", "POST"])
def import_home(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = run(request, lambda: services.import_batch_create(acting_user=request.user, filename=upload.name, content=upload.read()))
        if batch:
            audit_record(action="channels.import_upload", actor=request.user, target=f"import:{batch.pk}",
                         detail={"file": batch.file_name, "rows": batch.total_rows, "errors": batch.error_rows}, ip=client_ip(request))
            return redirect("channels:import_batch", pk=batch.pk)
    batches = selectors.import_batches_visible_to(request.user).select_related("created_by")[:30]
    return render(request, "channels/import_home.html", {"form": form, "batches": batches, "columns": COLUMNS, "active_tool": "import"})


@importer
@require_GET
def import_template(request):
    return xlsx_response(template_workbook(), _("诉求导入模板.xlsx"))


def _batch(request, pk: int):
    return object_or_404(selectors.import_batches_visible_to(request.user), pk=pk)


@importer
@require_GET
def import_batch(request, pk: int):
    batch = _batch(request, pk)
    errors = batch.rows.filter(status=ImportRowStatus.INVALID).order_by("row_number")
    page = Paginator(errors, 100).get_page(request.GET.get("page"))
    return render(request, "channels/import_batch.html", {
        "batch": batch, "page": page, "titles": {c.key: c.title for c in COLUMNS}, "active_tool": "import",
        "created_rows": batch.rows.filter(status=ImportRowStatus.CREATED).select_related("case").order_by("row_number")[:20],
    })


@importer
@require_GET
def import_report(request, pk: int):
    batch = _batch(request, pk)
    errors = [e for row in batch.rows.filter(status=ImportRowStatus.INVALID).order_by("row_number").values_list("errors", flat=True) for e in row]
    audit_record(action="channels.import_report", actor=request.user, target=f"import:{batch.pk}", ip=client_ip(request))
    return xlsx_response(report_workbook(errors, file_errors=batch.file_errors), f"{batch.file_name}-错误报告.xlsx")


@importer
@require_POST
def import_start(request, pk: int):
    batch = _batch(request, pk)
    form = ImportStartForm(request.POST)
    form.is_valid()
    run(request, lambda: services.import_batch_start(batch=batch, acting_user=request.user, valid_only=form.cleaned_data.get("valid_only", False)))
    return redirect("channels:import_batch", pk=batch.pk)


@importer
@require_POST
def import_step(request, pk: int):
    """Import the next rows; answers the progress fragment (htmx) or the batch page."""
    batch = _batch(request, pk)
    batch = run(request, lambda: services.import_batch_step(batch=batch, acting_user=request.user)) or batch
    if request.htmx:
        response = render(request, "channels/_import_progress.html", {"batch": batch})
        if batch.status == ImportStatus.DONE:
            response["HX-Refresh"] = "true"  # show the finished batch with its links
        return response
    if batch.status == ImportStatus.DONE:
        messages.success(request, _("导入完成。"))
    return redirect("channels:import_batch", pk=batch.pk)


@importer
@require_POST
def import_cancel(request, pk: int):
    batch = _batch(request, pk)
    run(request, lambda: services.import_batch_cancel(batch=batch, acting_user=request.user), _("已取消。"))
    return redirect("channels:import_home")


__all__ = ["import_batch", "import_cancel", "import_home", "import_report", "import_start", "import_step", "import_template"]
