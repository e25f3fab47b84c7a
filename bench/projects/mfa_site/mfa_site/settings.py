"""The benchmark site for trench_mfa: bench_common's settings plus the package."""

from bench_common.settings import *  # noqa: F403
from bench_common.settings import BASE_APPS, COMMON_TRENCH_AUTH, EMAIL_VALIDITY

# bench_floor: the floors of the load test (bench/README.md), in the same site.
INSTALLED_APPS = [*BASE_APPS, "trench_mfa", "mfa_site", "bench_floor"]
ROOT_URLCONF = "mfa_site.urls"
BENCH_ADAPTER = "mfa_site.adapter"

TRENCH_AUTH = {
    **COMMON_TRENCH_AUTH,
    # django-trench adds a second method without a code of the first; so does
    # the bench site (the seeding is shared, and activation is not timed).
    "CONFIRM_ACTIVATION_WITH_CODE": False,
    # An explicit key, as the system check recommends for production (a
    # fixed, public bench-only value).
    "ENCRYPTION_KEYS": ["YmVuY2gtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc="],
    "MFA_METHODS": {
        "email": {
            "HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher",
            "SOURCE_FIELD": "email",
            "VALIDITY_PERIOD": EMAIL_VALIDITY,
        },
        "app": {
            "HANDLER": "trench_mfa.backends.application.ApplicationMessageDispatcher",
        },
        # Step 2 with a passkey next to TOTP (mfa_site/passkey.py).
        "webauthn": {
            "HANDLER": "trench_mfa.backends.webauthn.WebAuthnDispatcher",
            "RP_ID": "bench.example",
            "ORIGINS": ["https://bench.example"],
        },
    },
}
