"""Analytics pages. Staff pages live under /desk/analytics/ (see config/urls.py); the public
board is mounted at /board/."""

from django.urls import path

app_name = "analytics"

urlpatterns: list = []
