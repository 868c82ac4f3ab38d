from django.urls import path

from .views import account, audit, cases, files, hotline, inbox, privacy, quality, queues

app_name = "desk"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queue/<slug:key>/", queues.queue, name="queue"),
    path("queue/<slug:key>/export.xlsx", queues.export, name="export"),
    path("queue/<slug:key>/dispatch/", queues.bulk_dispatch, name="bulk_dispatch"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/act/<slug:action>/", cases.case_act, name="act"),
    path("cases/<int:pk>/reveal-phone/", cases.reveal_phone, name="reveal_phone"),
    path("cases/<int:pk>/reveal/<slug:field>/", cases.reveal, name="reveal"),
    path("attachments/<int:pk>/", files.case_attachment, name="case_attachment"),
    path("hotline/new/", hotline.hotline_new, name="hotline"),
    path("hotline/history/", hotline.hotline_history, name="hotline_history"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("dispatch/quality/", quality.dispatch_quality, name="dispatch_quality"),
    path("notifications/<int:pk>/open/", inbox.notification_open, name="notification_open"),
    path("notifications/read-all/", inbox.notifications_read_all, name="notifications_read_all"),
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.xlsx", audit.audit_export, name="audit_export"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
    path("privacy/erasure/", privacy.erasure, name="erasure"),
    path("account/two-factor/", account.twofactor_setup, name="twofactor_setup"),
    path("account/two-factor/verify/", account.twofactor_verify, name="twofactor_verify"),
]
