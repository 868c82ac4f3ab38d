from django.urls import path

from .views import cases, hotline, inbox, quality, queues

app_name = "desk"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queue/<slug:key>/", queues.queue, name="queue"),
    path("queue/<slug:key>/export.xlsx", queues.export, name="export"),
    path("queue/<slug:key>/dispatch/", queues.bulk_dispatch, name="bulk_dispatch"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/act/<slug:action>/", cases.case_act, name="act"),
    path("cases/<int:pk>/reveal-phone/", cases.reveal_phone, name="reveal_phone"),
    path("hotline/new/", hotline.hotline_new, name="hotline"),
    path("hotline/history/", hotline.hotline_history, name="hotline_history"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("dispatch/quality/", quality.dispatch_quality, name="dispatch_quality"),
    path("notifications/<int:pk>/open/", inbox.notification_open, name="notification_open"),
    path("notifications/read-all/", inbox.notifications_read_all, name="notifications_read_all"),
]
