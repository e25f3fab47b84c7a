"""App config of the floor views."""

from django.apps import AppConfig


class BenchFloorConfig(AppConfig):
    """The floors of the load test (``bench_floor``)."""

    name = "bench_floor"
    default_auto_field = "django.db.models.BigAutoField"
