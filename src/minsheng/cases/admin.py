"""Admin for the case engine's tables. The taxonomy and the deadline policies are edited
here; cases are read-mostly: their state, version, deadlines and assignments change only
through `cases.services` (the workbench and the API), so the admin shows them but cannot
change them, and its corrections of descriptive fields are audited."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from minsheng.core.services import audit_record

from .deadlines import Duration, InvalidDuration
from .models import Attachment, Case, CaseAssignment, CaseEvent, Category, CoReporter, DeadlinePolicy, ExtensionRequest


class SubcategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ("code", "name", "routing", "department", "note", "active", "sort_order")
    autocomplete_fields = ("department",)
    extra = 0


class TopLevelFilter(admin.SimpleListFilter):
    title = _("大类")
    parameter_name = "top"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in Category.objects.filter(parent__isnull=True).order_by("sort_order", "code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(parent_id=self.value())
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "routing", "department", "active")
    list_filter = ("active", "routing", TopLevelFilter)
    search_fields = ("code", "name", "note")
    list_select_related = ("parent", "department")
    autocomplete_fields = ("parent", "department")
    ordering = ("sort_order", "code")

    def get_inlines(self, request, obj):
        return [SubcategoryInline] if obj is not None and obj.parent_id is None else []


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("urgency", "acknowledge_within", "contact_within", "resolve_within", "note")

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        from .deadlines import invalidate_policies

        super().save_model(request, obj, form, change)
        transaction.on_commit(invalidate_policies)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        hint = _("例如：4 hours working、24 hours calendar、7 days working")
        for name in ("acknowledge_within", "contact_within", "resolve_within"):
            form.base_fields[name].help_text = hint
            form.base_fields[name].validators.append(_validate_duration)
        return form


def _validate_duration(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        Duration.parse(value)
    except (InvalidDuration, ValueError) as exc:
        raise ValidationError(str(exc)) from exc


# ---------------------------------------------------------------- cases


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AssignmentInline(_ReadOnlyInline):
    model = CaseAssignment
    fields = ("unit", "role", "active", "assigned_at", "assigned_by")
    readonly_fields = fields


class EventInline(_ReadOnlyInline):
    model = CaseEvent
    fields = ("at", "action", "from_state", "to_state", "actor", "actor_unit", "unit", "reason")
    readonly_fields = fields
    ordering = ("at", "id")


class ExtensionInline(_ReadOnlyInline):
    model = ExtensionRequest
    fields = ("requested_at", "unit", "working_days", "reason", "status", "decided_by", "decided_at")
    readonly_fields = fields


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ("stored_file", "content_type", "size", "is_public", "created_at")
    readonly_fields = fields

    @admin.display(description=_("附件"))
    def stored_file(self, obj):
        # Through the permission-checked view: uploaded files have no public address.
        return format_html('<a href="{}">{}</a>', reverse("desk:case_attachment", args=[obj.pk]), obj.stored_name)


class CoReporterInline(_ReadOnlyInline):
    model = CoReporter
    fields = ("name", "joined_at", "text")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases, read-mostly. No adding (cases come in through the channels), no deleting (the
    statistics are built on them), and nothing that moves a case: state, version, deadlines,
    units and times are read-only. An administrator may correct the text and the reporter's
    details (a typo, a data-protection request); each correction is audited."""

    list_display = ("tracking_code", "summary", "state", "category", "street", "main_unit", "due_flag", "submitted_at", "desk_link")
    list_filter = ("state", "channel", "kind", "urgency", "due_flag", "street")
    search_fields = ("tracking_code", "text")  # personal fields are encrypted: not searchable
    list_select_related = ("category", "category__parent", "street", "main_unit")
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    EDITABLE = ("text", "address", "reporter_name", "reporter_phone", "reporter_id_number", "is_anonymous")
    readonly_fields = (
        "tracking_code", "kind", "channel", "state", "version", "category", "urgency", "street", "community", "main_unit",
        "submitted_at", "accepted_at", "dispatched_at", "acknowledged_at", "contacted_at", "replied_at", "approved_at", "closed_at",
        "acknowledge_due_at", "contact_due_at", "resolve_due_at", "due_flag",
        "reply_text", "feedback", "feedback_comment", "feedback_at", "no_feedback",
        "supervision_level", "rehandle_count", "reporter_count", "merged_into",
        "idempotency_key", "dispatch_meta", "source_type", "source_id", "created_by", "personal_data_erased_at",
    )
    fieldsets = (
        (None, {"fields": ("tracking_code", "kind", "channel", "state", "version")}),
        (_("诉求"), {"fields": ("text", "address", "reporter_name", "reporter_phone", "reporter_id_number", "is_anonymous",
                              "personal_data_erased_at")}),
        (_("分类与承办"), {"fields": ("category", "urgency", "street", "community", "main_unit", "merged_into")}),
        (_("时间与期限"), {"fields": (
            "submitted_at", "accepted_at", "dispatched_at", "acknowledged_at", "contacted_at", "replied_at", "approved_at", "closed_at",
            "acknowledge_due_at", "contact_due_at", "resolve_due_at", "due_flag",
        )}),
        (_("答复与评价"), {"fields": ("reply_text", "feedback", "feedback_comment", "feedback_at", "no_feedback",
                                 "supervision_level", "rehandle_count", "reporter_count")}),
        (_("来源"), {"fields": ("idempotency_key", "dispatch_meta", "source_type", "source_id", "created_by"), "classes": ("collapse",)}),
    )
    inlines = (AssignmentInline, ExtensionInline, AttachmentInline, CoReporterInline, EventInline)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("工作台"))
    def desk_link(self, obj: Case) -> str:
        return format_html('<a href="{}">{}</a>', reverse("desk:case", args=[obj.pk]), _("打开"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change form shows the reporter's details in full: an unmasked read like any other.
        if request.method == "GET":
            case = Case.objects.filter(pk=object_id).only("tracking_code").first() if str(object_id).isdigit() else None
            if case is not None:
                audit_record(action="unmask", actor=request.user, target=f"case:{case.tracking_code}",
                             detail={"field": "admin_change_form"}, ip=request.META.get("REMOTE_ADDR"))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Only the descriptive fields are in the form; write just those, so a concurrent
        # transition (state, version, deadlines) is never overwritten by this save.
        fields = [name for name in form.changed_data if name in self.EDITABLE]
        if not fields:
            return
        obj.save(update_fields=fields)
        audit_record(
            action="admin.case_change", actor=request.user, target=f"case:{obj.tracking_code}",
            detail={"fields": fields}, ip=request.META.get("REMOTE_ADDR"),
        )


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    """The case log: append-only, read here."""

    list_display = ("at", "case", "action", "from_state", "to_state", "actor", "actor_kind", "unit")
    list_filter = ("action", "actor_kind", "is_public")
    search_fields = ("case__tracking_code", "reason")
    list_select_related = ("case", "actor", "unit")
    date_hierarchy = "at"
    show_full_result_count = False
    raw_id_fields = ("case",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
