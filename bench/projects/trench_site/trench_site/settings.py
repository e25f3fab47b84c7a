"""The benchmark site for django-trench 0.3.1: bench_common's settings plus the package."""

from bench_common.settings import *  # noqa: F403
from bench_common.settings import BASE_APPS, COMMON_TRENCH_AUTH, EMAIL_VALIDITY

INSTALLED_APPS = [*BASE_APPS, "trench", "trench_site"]
ROOT_URLCONF = "trench_site.urls"
BENCH_ADAPTER = "trench_site.adapter"

TRENCH_AUTH = {
    **COMMON_TRENCH_AUTH,
    "MFA_METHODS": {
        "email": {
            "HANDLER": "trench.backends.basic_mail.SendMailMessageDispatcher",
            "SOURCE_FIELD": "email",
            "VALIDITY_PERIOD": EMAIL_VALIDITY,
        },
        "app": {
            "HANDLER": "trench.backends.application.ApplicationMessageDispatcher",
            "VALIDITY_PERIOD": 30,
        },
    },
}
