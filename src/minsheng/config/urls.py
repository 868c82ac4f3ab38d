from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from minsheng.analytics.views.board import board as public_board
from minsheng.api import urls as api_urls
from minsheng.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("minsheng.intake.urls")),
    path("desk/", include("minsheng.desk.urls")),
    path("desk/analytics/", include("minsheng.analytics.urls")),
    path("board/", public_board, name="board"),
    path("", include("minsheng.channels.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls.rest_urls),
    path("open311/v2/", include(api_urls.open311_urls)),
]

# No route serves MEDIA_ROOT: uploaded files (residents' photos, documents) are answered only by
# permission-checked views — desk:case_attachment, channels:forum_photo, channels:visit_photo
# (core/protected_media.py).
