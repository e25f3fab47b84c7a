"""Settings shared by both benchmark sites, selected by environment variables.

``BENCH_DB``      ``sqlite:<file>`` (default: a file in ``bench/.scratch``) or
                  ``postgres:<database name>``.
``BENCH_PG``      ``host:port`` of PostgreSQL (default ``127.0.0.1:5432``), user
                  ``BENCH_PG_USER`` (default ``postgres``, trust auth).
``BENCH_HASHER``  ``md5`` (framework cost only) or ``default`` (Django's own
                  default password hasher of the installed Django version).
``BENCH_SQLITE_SYNC``  ``full`` (SQLite's default) or ``off``: a diagnostic
                  run whose SQLite commits are not flushed to disk (see
                  ``bench_common.apps``).

A site's settings module star-imports this one and adds its package's app,
URLs and ``TRENCH_AUTH``; everything else is the same for both packages.
"""

from __future__ import annotations

import os
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[3]
SCRATCH = BENCH_DIR / ".scratch"


def _database() -> dict[str, object]:
    spec = os.environ.get("BENCH_DB") or f"sqlite:{SCRATCH / 'site.sqlite3'}"
    kind, _, name = spec.partition(":")
    if kind == "postgres":
        host, _, port = os.environ.get("BENCH_PG", "127.0.0.1:5432").partition(":")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": os.environ.get("BENCH_PG_USER", "postgres"),
            "HOST": host,
            "PORT": port or "5432",
            # Persistent connections for both packages: a real deployment
            # does not pay a PostgreSQL connect per request.
            "CONN_MAX_AGE": None,
        }
    if kind != "sqlite":
        raise ValueError(f"BENCH_DB must be sqlite:<file> or postgres:<name>, not {spec!r}")
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "CONN_MAX_AGE": None}


SECRET_KEY = "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": _database()}

BENCH_HASHER = os.environ.get("BENCH_HASHER", "md5")
if BENCH_HASHER == "md5":
    # Only the first entry hashes; the second one lets stored PBKDF2 values
    # (if any) still verify.
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
elif BENCH_HASHER != "default":
    raise ValueError("BENCH_HASHER must be md5 or default")

BASE_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework.authtoken",
    "bench_common",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "bench <bench@example.com>"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    # 401s are expected in the wrong-code scenarios; do not log each one.
    "loggers": {"django.request": {"level": "ERROR"}},
}

#: The same TRENCH_AUTH options for both packages; each site adds HANDLERs.
COMMON_TRENCH_AUTH = {
    "BACKUP_CODES_QUANTITY": 10,
    "CONFIRM_DISABLE_WITH_CODE": True,
    "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": True,
    "APPLICATION_ISSUER_NAME": "bench",
}
#: Email codes live 5 minutes in both (trench_mfa's default; django-trench
#: would otherwise use 30 s TOTP steps for email and fail across a boundary).
EMAIL_VALIDITY = 300
