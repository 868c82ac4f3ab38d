"""Analytics pages. Staff pages live under /desk/analytics/ (see config/urls.py); the public
board is mounted at /board/."""

from django.urls import path

from .views import briefing
from .views import dashboard as dashboard_views

app_name = "analytics"

urlpatterns: list = [
    path("dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("dashboard/export.xlsx", dashboard_views.dashboard_export, name="dashboard_export"),
    path("drilldown/", dashboard_views.drilldown, name="drilldown"),
    path("drilldown/export.xlsx", dashboard_views.drilldown_export, name="drilldown_export"),
    path("briefing/", briefing.briefing, name="briefing"),
]

# Hotspots and 每月一题 topics.
from .views import hotspots as hotspot_views  # noqa: E402

urlpatterns += [
    path("hotspots/", hotspot_views.hotspots, name="hotspots"),
    path("hotspots/export/<slug:table>.xlsx", hotspot_views.hotspots_export, name="hotspots_export"),
    path("hotspots/reporters/<str:token>/", hotspot_views.reporter_cases, name="reporter_cases"),
    path("hotspots/reporters/<str:token>/export.xlsx", hotspot_views.reporter_cases_export, name="reporter_cases_export"),
    path("topics/proposals.xlsx", hotspot_views.proposals_export, name="topic_proposals_export"),
    path("topics/", hotspot_views.topics, name="topics"),
    path("topics/export.xlsx", hotspot_views.topics_export, name="topics_export"),
    path("topics/adopt/", hotspot_views.topic_adopt, name="topic_adopt"),
    path("topics/<int:pk>/", hotspot_views.topic_detail, name="topic"),
    path("topics/<int:pk>/edit/", hotspot_views.topic_edit, name="topic_edit"),
    path("topics/<int:pk>/status/", hotspot_views.topic_status, name="topic_status"),
    path("topics/<int:pk>/note/", hotspot_views.topic_note, name="topic_note"),
    path("topics/<int:pk>/link/", hotspot_views.topic_link, name="topic_link"),
    path("topics/<int:pk>/unlink/<int:case_id>/", hotspot_views.topic_unlink, name="topic_unlink"),
    path("topics/<int:pk>/refresh/", hotspot_views.topic_refresh, name="topic_refresh"),
    path("topics/<int:pk>/cases.xlsx", hotspot_views.topic_cases_export, name="topic_cases_export"),
]
