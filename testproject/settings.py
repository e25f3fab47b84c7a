"""Settings of the trench_mfa demo and test project.

SQLite in the repository root by default. Set ``TEST_DATABASE_URL`` (preferred)
or ``DATABASE_URL`` to use another database, e.g.
``postgres://postgres@127.0.0.1:5432/test``; set ``REDIS_URL`` to put the
cache in Redis. Never use these settings in production as they are.
"""

import os
from pathlib import Path

from testproject.mail import mail_settings

BASE_DIR = Path(__file__).resolve().parent
REPO_ROOT = BASE_DIR.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get(
    "SECRET_KEY",
    "django-insecure-trench-mfa-demo-only-change-me-0123456789abcdefghijklmnop",
)
DEBUG = _env_bool("DEBUG", True)
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "djoser",
    "drf_spectacular",
    # Swagger UI's and Redoc's files, served by staticfiles: the API docs
    # work without network (no CDN).
    "drf_spectacular_sidecar",
    "trench_mfa",
    "testproject.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Answers in the client's language (Accept-Language): trench_mfa ships
    # en, de, pl, es and fr.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "testproject.urls"
WSGI_APPLICATION = "testproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # testproject/templates: the demo's landing page.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
if _DATABASE_URL:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(_DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(REPO_ROOT / "db.sqlite3"),
        }
    }

_REDIS_URL = os.environ.get("REDIS_URL")
if _REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _REDIS_URL,
            "KEY_PREFIX": "trench_mfa_demo",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "trench_mfa_demo",
        }
    }
    # The demo server is one process, so a per-process cache is enough for
    # the login throttles; production points the cache at Redis.
    SILENCED_SYSTEM_CHECKS = ["trench_mfa.W142"]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("pl", "Polski"),
    ("es", "Español"),
    ("fr", "Français"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# MAILERS on Django 6.1+, EMAIL_BACKEND and EMAIL_* before (testproject/mail.py).
# By default one readable line per email on the console (recipient, subject,
# code, link) instead of Django's MIME dump: see testproject/console_mail.py.
_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "testproject.console_mail.EmailBackend")
# Host and port for the SMTP backend (e.g. a Celery worker started by a test);
# other backends refuse connection options in MAILERS.
_SMTP_OPTIONS = (
    {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
    }
    if _EMAIL_BACKEND.endswith(".smtp.EmailBackend")
    else {}
)
globals().update(mail_settings(_EMAIL_BACKEND, **_SMTP_OPTIONS))
DEFAULT_FROM_EMAIL = "trench-mfa demo <no-reply@example.com>"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # APIClient sends JSON, so tests see real JSON types (numbers, null, lists).
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Login step 1: at most 10 tries a minute per client IP and per username;
    # codes sent on request: 20 a minute per client IP (counted in
    # CACHES["default"]: Redis when REDIS_URL is set).
    "DEFAULT_THROTTLE_RATES": {"trench_mfa_login": "10/min", "trench_mfa_send": "20/min"},
    # No proxy in front of the demo: the client IP is REMOTE_ADDR and any
    # X-Forwarded-For header is ignored. Behind N proxies, set N.
    "NUM_PROXIES": 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "trench_mfa demo API",
    "DESCRIPTION": "Multi-factor authentication endpoints of the trench_mfa demo project.",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI (and Redoc, should a project route it) from
    # drf_spectacular_sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No online validator (Swagger UI's default sends the schema to
    # validator.swagger.io): the page talks to this server only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

TRENCH_AUTH = {
    "MFA_METHODS": {
        "email": {
            "VERBOSE_NAME": "email",
            "HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher",
            "SOURCE_FIELD": "email",
        },
        # Authenticator app (TOTP): step 30 s, 6 digits, SHA1 (the defaults).
        "app": {
            "VERBOSE_NAME": "app",
            "HANDLER": "trench_mfa.backends.application.ApplicationMessageDispatcher",
        },
        # SMS for the demo: the console dispatcher logs the text instead of
        # sending it, and DEBUG makes that text include the code.
        "sms": {
            "VERBOSE_NAME": "sms",
            "HANDLER": "trench_mfa.backends.console.ConsoleMessageDispatcher",
            "SOURCE_FIELD": "phone_number",
            "DEBUG": True,
        },
    },
    "APPLICATION_ISSUER_NAME": "trench_mfa demo",
    # "celery" sends codes from a Celery worker (see testproject/celery_app.py).
    "DISPATCH": os.environ.get("TRENCH_MFA_DISPATCH", "sync"),
    # Fernet keys for secrets at rest (TOTP seeds), newest first. The fallback
    # is a demo-only key, public like the demo SECRET_KEY above.
    "ENCRYPTION_KEYS": [
        os.environ.get("TRENCH_MFA_ENCRYPTION_KEY", "Wh9mIWSfWwGq6p9GJrEPxbSy1S_y7oFEj3zLHhtxtho="),
    ],
}

# Celery (used when TRENCH_AUTH["DISPATCH"] is "celery"; see testproject/celery_app.py).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or _REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "simple": {"format": "{levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "simple"},
    },
    "loggers": {
        "trench_mfa": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
