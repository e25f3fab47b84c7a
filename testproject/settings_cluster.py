"""One of several app servers behind a load balancer (the tests in ``tests/cluster``).

``testproject.settings`` as a production-like app server: ``DEBUG`` off, the
client IP taken from the load balancer's ``X-Forwarded-For``, persistent
database connections, the cache in Redis, email over SMTP and SMS through
Twilio's API. The tests start two gunicorn servers with these settings and
point them, through the environment, at the same PostgreSQL database and
Redis and at loopback SMTP and SMS servers of their own:

``TEST_DATABASE_URL``
    The shared PostgreSQL database (required).
``REDIS_URL``
    The shared Redis (required): the login and send throttles count there.
``EMAIL_HOST``, ``EMAIL_PORT``
    The SMTP server codes are mailed through.
``CLUSTER_SMS_URL``
    The base URL that replaces ``https://api.twilio.com``.
``CLUSTER_SERVER_NAME``
    This server's name, sent to PostgreSQL as ``application_name`` so a test
    can find the server's database sessions.

The limits below are module constants, so the tests read the same numbers
the servers enforce.
"""

import copy
import os

from testproject.mail import mail_settings
from testproject.settings import *  # noqa: F403
from testproject.settings import DATABASES, LOGGING, REST_FRAMEWORK, TRENCH_AUTH

#: Login step 1 attempts per client IP and per username in one throttle window.
LOGIN_RATE = 24
#: Codes sent on request per client IP in one throttle window.
SEND_RATE = 12
#: The throttle window: a day (``"d"``), so a burst of requests practically
#: never straddles two windows (the tests check that it did not).
RATE_PERIOD = "day"
#: The window's length in seconds.
RATE_WINDOW = 24 * 3600
#: Back-off after the first failed check, in seconds: long enough that
#: parallel requests of one test always arrive inside it.
THROTTLE_FACTOR = 30
#: Consecutive failures of a user that lock every method (the package default).
LOCKOUT_THRESHOLD = 20
#: Sends to one phone number in any hour, across users.
SMS_MAX_PER_NUMBER = 5
#: The Twilio account the SMS stub expects (made up).
TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_AUTH_TOKEN = "cluster-twilio-token"
TWILIO_FROM = "+15005550006"

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# Checked only when these are the settings in use: the tests import this
# module for its limits wherever they run.
if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__ and not (
    os.environ.get("TEST_DATABASE_URL") and os.environ.get("REDIS_URL")
):
    raise RuntimeError("settings_cluster needs TEST_DATABASE_URL and REDIS_URL")

DATABASES = {
    "default": {
        **DATABASES["default"],
        # Connections outlive a request, as in production; a connection the
        # database dropped is noticed and replaced before the next request.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            **DATABASES["default"].get("OPTIONS", {}),
            "application_name": os.environ.get("CLUSTER_SERVER_NAME", "trench-mfa-cluster"),
        },
    }
}

# The test process creates users with the MD5 hasher (tests/conftest.py);
# the servers must check those passwords, and quickly on two cores.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

globals().update(
    mail_settings(
        "django.core.mail.backends.smtp.EmailBackend",
        host=os.environ.get("EMAIL_HOST", "127.0.0.1"),
        port=int(os.environ.get("EMAIL_PORT", "25")),
        timeout=5,
    )
)

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "trench_mfa_login": f"{LOGIN_RATE}/{RATE_PERIOD}",
        "trench_mfa_send": f"{SEND_RATE}/{RATE_PERIOD}",
    },
    # One load balancer in front: it appends the client's address.
    "NUM_PROXIES": 1,
}

TRENCH_AUTH = {
    **TRENCH_AUTH,
    "MFA_METHODS": {
        **TRENCH_AUTH["MFA_METHODS"],
        "sms": {
            "VERBOSE_NAME": "sms",
            "HANDLER": "trench_mfa.backends.twilio.TwilioMessageDispatcher",
            "SOURCE_FIELD": "phone_number",
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_VERIFIED_FROM_NUMBER": TWILIO_FROM,
            "ENDPOINT_URL": os.environ.get("CLUSTER_SMS_URL", "http://127.0.0.1:9"),
            "TIMEOUT": 5,
        },
    },
    "DISPATCH": "sync",
    "THROTTLE_FACTOR": THROTTLE_FACTOR,
    "LOCKOUT_THRESHOLD": LOCKOUT_THRESHOLD,
    "SMS_MAX_PER_NUMBER": SMS_MAX_PER_NUMBER,
}

# The console logging of testproject/settings.py, plus server errors (a lost
# database connection): they go to the server's log, never into a response,
# as DEBUG is off.
LOGGING = copy.deepcopy(LOGGING)
LOGGING["loggers"]["django.request"] = {
    "handlers": ["console"],
    "level": "ERROR",
    "propagate": False,
}
