"""The channels' records in the Django admin (system administrators): for looking up and
correcting data; staff work on the channels' own pages."""

from django.contrib import admin

from . import models


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("title", "owner_unit", "status", "answer_limit", "closes_at", "created_at")
    list_filter = ("status", "target_scope")
    search_fields = ("title",)
    raw_id_fields = ("owner_unit", "created_by")
    filter_horizontal = ("target_units",)


@admin.register(models.SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "submitted_at", "street", "community")
    list_filter = ("survey",)
    raw_id_fields = ("survey", "street", "community")


@admin.register(models.SuggestionBox)
class SuggestionBoxAdmin(admin.ModelAdmin):
    list_display = ("__str__", "active", "created_at")
    list_filter = ("active",)
    raw_id_fields = ("unit", "created_by")


@admin.register(models.SuggestionNote)
class SuggestionNoteAdmin(admin.ModelAdmin):
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
class VisitAdmin(admin.ModelAdmin):
    list_display = ("visited_at", "community", "place_masked", "visitor")
    raw_id_fields = ("community", "visitor")


@admin.register(models.ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "status", "total_rows", "error_rows", "created_count", "duplicate_count", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("created_by",)
