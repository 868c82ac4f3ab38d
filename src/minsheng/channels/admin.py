"""The channels' records in the Django admin (system administrators): for looking up and
correcting data; staff work on the channels' own pages."""

from django.contrib import admin

from minsheng.core.services import audit_record

from . import models


class PersonalDataAdmin(admin.ModelAdmin):
    """The change form shows a record's personal data in full: an unmasked read, audited as
    on cases."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and str(object_id).isdigit() and self.model._default_manager.filter(pk=object_id).exists():
            audit_record(action="unmask", actor=request.user, target=f"{self.model._meta.label_lower}:{object_id}",
                         detail={"field": "admin_change_form"}, ip=request.META.get("REMOTE_ADDR"))
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("title", "owner_unit", "status", "answer_limit", "closes_at", "created_at")
    list_filter = ("status", "target_scope")
    search_fields = ("title",)
    raw_id_fields = ("owner_unit", "created_by")
    filter_horizontal = ("target_units",)


@admin.register(models.SurveyResponse)
class SurveyResponseAdmin(PersonalDataAdmin):
    list_display = ("survey", "submitted_at", "street", "community")
    list_filter = ("survey",)
    raw_id_fields = ("survey", "street", "community")


@admin.register(models.SuggestionBox)
class SuggestionBoxAdmin(admin.ModelAdmin):
    list_display = ("__str__", "active", "created_at")
    list_filter = ("active",)
    raw_id_fields = ("unit", "created_by")


@admin.register(models.SuggestionNote)
class SuggestionNoteAdmin(PersonalDataAdmin):
    list_display = ("box", "source", "status", "submitted_at", "summary")
    list_filter = ("status", "source")
    search_fields = ("text",)
    raw_id_fields = ("box", "batch", "case", "moderated_by", "entered_by")


@admin.register(models.Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "held_on", "host_unit")
    list_filter = ("kind",)
    search_fields = ("title", "place")
    raw_id_fields = ("host_unit", "created_by")


@admin.register(models.Visit)
class VisitAdmin(PersonalDataAdmin):
    list_display = ("visited_at", "community", "place_masked", "visitor")
    raw_id_fields = ("community", "visitor")


@admin.register(models.ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "status", "total_rows", "error_rows", "created_count", "duplicate_count", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("created_by",)
