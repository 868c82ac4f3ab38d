"""每月一题 in the admin: read mostly. Adoption, status and links go through the services
(they audit and keep the log); the admin shows what is there."""

from django.contrib import admin

from .models import Topic, TopicCase, TopicNote


class TopicNoteInline(admin.TabularInline):
    model = TopicNote
    extra = 0
    fields = ("at", "kind", "author", "from_status", "to_status", "text")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("month", "title", "category", "place", "owner_unit", "status", "proposed_count", "adopted_by", "adopted_at")
    list_filter = ("status", "month")
    search_fields = ("title", "plan")
    readonly_fields = ("month", "category", "street", "community", "place", "status", "proposed_count", "previous_count",
                       "adopted_by", "adopted_at", "updated_at", "done_at")
    fields = ("title", "plan", "owner_unit", *readonly_fields)
    inlines = [TopicNoteInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # edits go through the topic page: they are logged and audited


@admin.register(TopicCase)
class TopicCaseAdmin(admin.ModelAdmin):
    list_display = ("topic", "case", "source", "linked_at", "unlinked_at")
    list_filter = ("source",)
    raw_id_fields = ("topic", "case", "linked_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
