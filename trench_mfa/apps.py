"""Django application configuration for trench_mfa."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrenchMFAConfig(AppConfig):
    """Registers the system checks and the settings reload hook."""

    name = "trench_mfa"
    verbose_name = _("Multi-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Wire checks and signal receivers once the app registry is ready."""
        from trench_mfa import (
            checks,  # noqa: F401  (registers the checks)
            conf,
        )

        conf.connect_reload()
