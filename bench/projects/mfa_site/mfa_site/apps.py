"""App config so the site's management commands are found."""

from django.apps import AppConfig


class MfaSiteConfig(AppConfig):
    """The trench_mfa benchmark site."""

    name = "mfa_site"
