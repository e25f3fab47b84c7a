"""Email settings for every supported Django: ``MAILERS`` from 6.1, ``EMAIL_*`` before.

Django 6.1 deprecates ``EMAIL_BACKEND``, ``EMAIL_HOST`` and the other
``EMAIL_*`` connection settings in favour of ``MAILERS`` (and refuses the
two together), while 5.2 and 6.0 only know the old ones. The demo settings
and the tests describe the connection once and apply what the running
Django understands.
"""

from __future__ import annotations

from typing import Any

import django

#: Whether this Django reads ``MAILERS`` (and warns about ``EMAIL_*``).
HAS_MAILERS = django.VERSION >= (6, 1)

#: ``EMAIL_*`` setting of each connection option, for Django before 6.1.
_LEGACY_NAMES = {
    "host": "EMAIL_HOST",
    "port": "EMAIL_PORT",
    "username": "EMAIL_HOST_USER",
    "password": "EMAIL_HOST_PASSWORD",
    "use_tls": "EMAIL_USE_TLS",
    "use_ssl": "EMAIL_USE_SSL",
    "timeout": "EMAIL_TIMEOUT",
}


def mail_settings(backend: str, **options: Any) -> dict[str, Any]:
    """The settings that send through ``backend`` with ``options`` (``host``, ``port``, ...).

    ``{"MAILERS": {"default": ...}}`` on Django 6.1 and newer, the
    equivalent ``EMAIL_BACKEND`` and ``EMAIL_*`` settings before.
    """
    if HAS_MAILERS:
        return {"MAILERS": {"default": {"BACKEND": backend, "OPTIONS": options}}}
    return {"EMAIL_BACKEND": backend, **{_LEGACY_NAMES[k]: v for k, v in options.items()}}
