"""App config so the site is an installed app (for the adapter)."""

from django.apps import AppConfig


class TrenchSiteConfig(AppConfig):
    """The django-trench benchmark site."""

    name = "trench_site"
