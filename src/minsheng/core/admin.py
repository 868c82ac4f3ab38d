"""Admin for the district's own data: the org tree, staff, the working calendar, and the
plumbing (outbox, audit log, inbox). Changes that the rest of the system must notice go
through the services (calendar edits invalidate the cached calendar; role and unit changes
are audited)."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models, transaction
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from .calendar import invalidate_calendar
from .choices import UnitKind
from .models import AuditEntry, CalendarDay, CalendarYear, Notification, OutboxMessage, Unit, User
from .services import audit_record, calendar_set_local_day

admin.site.site_header = _("民生诉求平台 · 系统管理")
admin.site.site_title = _("民生诉求平台")
admin.site.index_title = _("系统管理")


# ---------------------------------------------------------------- org tree


class StreetFilter(admin.SimpleListFilter):
    """Units of one street office: the office itself and its communities."""

    title = _("所属街道")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in Unit.objects.streets().order_by("sort_order", "code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(models.Q(pk=self.value()) | models.Q(parent_id=self.value()))
        return queryset


_KIND_ORDER = {UnitKind.DISTRICT: 0, UnitKind.STREET: 1, UnitKind.COMMUNITY: 1, UnitKind.DEPARTMENT: 2}


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    """The org tree as an indented list: the district, each street office followed by its
    communities, then the departments."""

    list_display = ("tree_name", "kind", "code", "parent", "stat_code", "active")
    list_display_links = ("tree_name",)
    list_filter = ("kind", "active", StreetFilter)
    search_fields = ("name", "code", "stat_code", "aliases")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    list_per_page = 200
    fieldsets = (
        (None, {"fields": ("kind", "code", "name", "parent", "active", "sort_order")}),
        (_("地名库"), {"fields": ("aliases", "places", "roads", "stat_code"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        # Order as a tree: group by kind band, then by street (a community sorts under its
        # street office), the office before its communities.
        qs = super().get_queryset(request)
        return qs.annotate(
            band=SqlCase(*[When(kind=k, then=Value(v)) for k, v in _KIND_ORDER.items()], default=Value(3), output_field=IntegerField()),
            street_order=SqlCase(
                When(kind=UnitKind.COMMUNITY, then=F("parent__sort_order")), default=F("sort_order"), output_field=IntegerField()
            ),
            street_code=SqlCase(When(kind=UnitKind.COMMUNITY, then=F("parent__code")), default=F("code")),
            depth=SqlCase(When(kind=UnitKind.COMMUNITY, then=Value(1)), default=Value(0), output_field=IntegerField()),
        ).order_by("band", "street_order", "street_code", "depth", "sort_order", "code")

    @admin.display(description=_("名称"), ordering="name")
    def tree_name(self, obj: Unit) -> str:
        return ("　　└ " if obj.kind == UnitKind.COMMUNITY else "") + obj.name


# ---------------------------------------------------------------- staff


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff accounts with their role and unit; a change of role, unit or admin rights is
    recorded in the audit log."""

    list_display = ("username", "display_name", "role", "unit", "is_active", "is_staff", "two_factor", "last_login")
    actions = ("reset_two_factor",)
    list_filter = ("role", "unit__kind", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email", "phone", "unit__name")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("last_name", "first_name", "email", "phone")}),
        (_("角色与单位"), {"fields": ("role", "unit")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"), "classes": ("collapse",)}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("角色与单位"), {"fields": ("role", "unit", "last_name", "first_name", "phone")}),
    )
    readonly_fields = ("last_login", "date_joined")

    AUDITED = ("role", "unit", "is_active", "is_staff", "is_superuser")

    @admin.display(description=_("姓名"))
    def display_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description=_("双因素"), boolean=True)
    def two_factor(self, obj: User) -> bool:
        return obj.totp_enabled_at is not None

    @admin.action(description=_("重置所选人员的双因素登录（手机丢失时）"))
    def reset_two_factor(self, request, queryset):
        from .twofactor import reset

        for user in queryset:
            reset(acting_user=request.user, user=user, ip=request.META.get("REMOTE_ADDR"))
        self.message_user(request, _("已重置 %(n)d 人的双因素登录。") % {"n": queryset.count()})

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            old = User.objects.filter(pk=obj.pk).values(*[f if f != "unit" else "unit_id" for f in self.AUDITED]).first() or {}
            before = {k.removesuffix("_id"): v for k, v in old.items()}
        super().save_model(request, obj, form, change)
        after = {f: (obj.unit_id if f == "unit" else getattr(obj, f)) for f in self.AUDITED}
        changed = {k: [before.get(k), v] for k, v in after.items() if not change or before.get(k) != v}
        if changed:
            audit_record(
                action="user.create" if not change else "user.permissions", actor=request.user, target=f"user:{obj.username}",
                detail={"changed": changed}, ip=request.META.get("REMOTE_ADDR"),
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and ({"groups", "user_permissions"} & set(form.changed_data)):
            audit_record(
                action="user.permissions", actor=request.user, target=f"user:{form.instance.username}",
                detail={"changed": sorted({"groups", "user_permissions"} & set(form.changed_data))}, ip=request.META.get("REMOTE_ADDR"),
            )


# ---------------------------------------------------------------- calendar


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Days that differ from the Mon–Fri week. Edits are saved as local days through the
    calendar service, which audits them and refreshes the cached calendar."""

    list_display = ("date", "weekday", "is_workday", "name", "source")
    list_filter = ("is_workday", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        if change and "date" in form.changed_data:
            CalendarDay.objects.filter(pk=obj.pk).delete()
        saved = calendar_set_local_day(date=obj.date, is_workday=obj.is_workday, name=obj.name, acting_user=request.user)
        obj.pk, obj.source = saved.pk, saved.source

    def delete_model(self, request, obj):
        audit_record(action="calendar.delete", actor=request.user, target=str(obj.date), detail={"name": obj.name})
        super().delete_model(request, obj)
        transaction.on_commit(invalidate_calendar)

    def delete_queryset(self, request, queryset):
        dates = [str(d) for d in queryset.values_list("date", flat=True)]
        audit_record(action="calendar.delete", actor=request.user, target=",".join(dates)[:200], detail={"dates": dates})
        super().delete_queryset(request, queryset)
        transaction.on_commit(invalidate_calendar)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "loaded_at")
    readonly_fields = ("loaded_at",)


# ---------------------------------------------------------------- plumbing


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes and nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "created_at", "available_at", "attempts", "processed_at", "short_error")
    list_filter = ("topic", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("topic", "last_error")
    date_hierarchy = "created_at"

    @admin.display(description=_("错误"))
    def short_error(self, obj: OutboxMessage) -> str:
        return (obj.last_error or "")[:80]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The append-only audit log: no adding, editing or deleting from here."""

    list_display = ("at", "actor_name", "action", "target", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target")
    date_hierarchy = "at"
    readonly_fields = ("at", "actor", "actor_name", "action", "target", "detail", "ip", "prev_hash", "hash")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "unit", "user", "text", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "unit__kind")
    search_fields = ("text", "unit__name", "user__username")
    list_select_related = ("unit", "user")
    autocomplete_fields = ("unit", "user")
    exclude = ("source_key",)
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change):
        # Outbox deliveries key their notifications by message; one written here by hand
        # gets a key of its own.
        if not obj.source_key:
            obj.source_key = f"admin:{uuid.uuid4().hex}"
        super().save_model(request, obj, form, change)
