"""The floor views, mounted under ``floor/`` by the trench_mfa site."""

from django.urls import path

from bench_floor.views import ReadFloorView, WriteFloorView

urlpatterns = [
    path("read/", ReadFloorView.as_view(), name="floor-read"),
    path("write/", WriteFloorView.as_view(), name="floor-write"),
]
