from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("appeal/new/", views.submit, name="submit"),
    path("appeal/<str:tracking_code>/done/", views.submitted, name="submitted"),
    path("places/", views.places, name="places"),
    path("appeal/similar/", views.similar, name="similar"),
    path("appeal/join/", views.join, name="join"),
    path("track/", views.track, name="track"),
    path("track/<str:tracking_code>/", views.case, name="case"),
    path("track/<str:tracking_code>/rate/", views.rate, name="rate"),
]
