"""The demo served by ``make run``: ``testproject.settings`` plus login flows.

Everything of the base settings keeps working (the README's username and
password walk-through gives the same answers), and on top:

* sign-up through djoser (``POST /auth/users/``) emails a verification code
  and a confirmation link (printed in the ``make run`` console);
* ``("email", "passcode")``: passwordless login with a code sent to a
  confirmed email address;
* ``("phone_number", "hardcode", "passcode")``: a PIN plus a code sent by SMS
  (the console SMS method prints it).

The test suite runs with ``testproject.settings`` (no flows: django-trench's
login); the flow tests switch flows on per test, and
``tests/flows/test_demo.py`` walks the README path with these settings.
"""

import os

from testproject import settings as _base
from testproject.settings import *  # noqa: F403
from testproject.settings import TRENCH_AUTH

_DEMO_HOST_PORT = os.environ.get("DEMO_HOST_PORT", "127.0.0.1:8000")

TRENCH_AUTH = {
    **TRENCH_AUTH,
    "FLOWS": [
        # django-trench's login: username and password, then the primary
        # MFA method when the user has one.
        ("username", "password"),
        # Passwordless: a code to the (confirmed) email address.
        ("email", "passcode"),
        # A PIN (POST /auth/hardcode/) and a code by SMS.
        ("phone_number", "hardcode", "passcode"),
    ],
    "IDENTIFIERS": {
        "email": {"METHOD": "email", "CONFIRMED_ON_CREATE": False},
        "phone_number": {"METHOD": "sms", "CONFIRMED_ON_CREATE": False},
    },
    # The address make run serves (its HOST_PORT, passed on as DEMO_HOST_PORT).
    "VERIFICATION_LINK_URL": f"http://{_DEMO_HOST_PORT}/auth/verification/email/{{key}}/",
    # Passwordless login with a passkey (the /passkeys/ page).
    "PASSKEY_LOGIN": True,
}
TRENCH_AUTH["MFA_METHODS"] = {
    **TRENCH_AUTH["MFA_METHODS"],
    # Passkeys and security keys. WebAuthn needs a secure context and an RP
    # ID that is a domain: the page works on http://localhost:<port>, never
    # on 127.0.0.1 (an IP address cannot be an RP ID).
    "webauthn": {
        "VERBOSE_NAME": "passkey",
        "HANDLER": "trench_mfa.backends.webauthn.WebAuthnDispatcher",
        "RP_ID": "localhost",
        "RP_NAME": "trench_mfa demo",
        "ORIGINS": [f"http://localhost:{_DEMO_HOST_PORT.rpartition(':')[2]}"],
        "USER_VERIFICATION": "preferred",
        "RESIDENT_KEY": "preferred",
    },
}

# accounts.User keeps Django's non-unique email and phone fields: a value
# shared by several users logs none of them in (the check says so).
SILENCED_SYSTEM_CHECKS = [*getattr(_base, "SILENCED_SYSTEM_CHECKS", []), "trench_mfa.W160"]
