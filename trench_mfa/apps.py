"""Django application configuration for trench_mfa."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrenchMFAConfig(AppConfig):
    """Registers the system checks, the settings reload hook, audit and identifier hooks."""

    name = "trench_mfa"
    verbose_name = _("Multi-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Wire checks and signal receivers once the app registry is ready."""
        from trench_mfa import checks, conf  # noqa: F401  (importing checks registers them)
        from trench_mfa.services import identifier_hooks, notifications
        from trench_mfa.state import audit

        conf.connect_reload()
        audit.connect_receivers()
        identifier_hooks.connect()
        notifications.connect()
        self._register_celery_task()
        self._register_schema_extensions()

    @staticmethod
    def _register_celery_task() -> None:
        """Register ``trench_mfa.send_code`` in every process, web servers included.

        The queue (:mod:`trench_mfa.dispatch.queue`) finds the task by name in
        Celery's registry; a worker would import it by autodiscovery, a web
        process might not. Celery is an optional extra.
        """
        try:
            import celery  # noqa: F401
        except ImportError:
            return
        from trench_mfa import tasks  # noqa: F401  (registers the task)

    @staticmethod
    def _register_schema_extensions() -> None:
        """Register the OpenAPI extensions when drf-spectacular is installed (optional).

        They describe the login bodies under ``FLOWS`` and the enrolment
        token's security scheme; defining their classes registers them.
        Imported here, not by :mod:`trench_mfa.api.schema`, because they
        describe serializers that themselves import that module.
        """
        try:
            import drf_spectacular  # noqa: F401
        except ImportError:
            return
        from trench_mfa.api import schema_auth, schema_flows  # noqa: F401
