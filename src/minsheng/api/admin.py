"""Admin for the open interfaces: tokens (read-only; made by `minsheng token create`, revoked
here or by the command), webhook endpoints (registered by the district administrator) and the
delivery log with replay. Writes go through the services, so they are checked and audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from minsheng.cases.errors import CaseError
from minsheng.core.choices import Role

from .choices import ALL_EVENTS, EVENT_TYPES
from .models import ApiToken, Open311Request, WebhookDelivery, WebhookEndpoint
from .services.tokens import token_revoke
from .services.webhooks import webhook_delivery_replay, webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # made by `minsheng token create`, which shows the key once

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(prefix=token.prefix, acting_user=request.user)
        messages.success(request, _("已吊销。"))


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=[(ALL_EVENTS, _("全部案件事件"))] + [(e, e) for e in EVENT_TYPES], widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "event_types", "description", "active")


def _is_district_admin(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMIN)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Registered by the district administrator only (the services check it too)."""

    form = WebhookEndpointForm
    list_display = ("url", "description", "active", "created_at", "created_by")
    readonly_fields = ("secret", "created_by", "created_at")

    def has_add_permission(self, request):
        return _is_district_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _is_district_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_district_admin(request.user) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint, acting_user=request.user)

    def get_fields(self, request, obj=None):
        return ("url", "event_types", "description", "active") + (("secret", "created_by", "created_at") if obj else ())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(endpoint=obj, acting_user=request.user, url=data["url"], event_types=data["event_types"],
                                    active=data["active"], description=data["description"])
            return
        created = webhook_endpoint_create(url=data["url"], event_types=data["event_types"], description=data["description"],
                                          acting_user=request.user)
        obj.pk, obj.secret, obj.created_by, obj.created_at = created.pk, created.secret, created.created_by, created.created_at
        messages.info(request, _("签名密钥：%(secret)s （接收方用它核对 X-Minsheng-Signature）") % {"secret": created.secret})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event_type", "endpoint", "status", "attempts", "response_code", "next_attempt_at", "delivered_at")
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("delivery_id",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新推送所选记录"))
    def replay(self, request, queryset):
        try:
            for delivery in queryset:
                webhook_delivery_replay(delivery=delivery, acting_user=request.user)
        except CaseError as exc:
            messages.error(request, exc.message)
            return
        messages.success(request, _("已重新推送。"))


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ("case", "service_code", "created_at", "api_token")
    search_fields = ("case__tracking_code", "token")
    readonly_fields = [f.name for f in Open311Request._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
