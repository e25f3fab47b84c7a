"""The scripted request sequences that both packages answer.

Each scenario starts with an empty database; its steps run in order, as the
user named in the step (``user=None``: anonymous). A step with a ``label`` is
a case: its status and body are compared between the packages. Unlabelled
steps are set-up (creating users, activating a method on the way).

References in bodies are resolved by the driver with each package's own
values: ``$email`` the last emailed code, ``$totp`` the authenticator code of
the next TOTP step, ``$backup`` an unused backup code, ``$token`` the last
ephemeral token, ``$wrong`` a well-formed code that is not the right one.
A step with ``key`` authenticates with an authtoken key the answers gave
(``$key``, ``$first_key``) instead of as its user.

Runs inside django-trench's virtualenv too: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: TRENCH_AUTH options of each settings variant (one driver process each:
#: django-trench reads some of them when its modules are imported).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {
        "CONFIRM_DISABLE_WITH_CODE": True,
        "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": True,
        "ALLOW_BACKUP_CODES_REGENERATION": True,
    },
    "no-confirm": {
        "CONFIRM_DISABLE_WITH_CODE": False,
        "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": False,
        "ALLOW_BACKUP_CODES_REGENERATION": True,
    },
    "no-regeneration": {
        "CONFIRM_DISABLE_WITH_CODE": True,
        "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": True,
        "ALLOW_BACKUP_CODES_REGENERATION": False,
    },
}


@dataclass(frozen=True)
class Step:
    """One request (or set-up action) of a scenario."""

    op: str  # "post", "get", "login" (POST with the user's credentials), "user", "wait"
    path: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    user: str | None = "alice"
    label: str = ""
    #: Authenticate with an authtoken key instead of as ``user``: ``$key`` the
    #: last key an answer gave, ``$first_key`` the first one.
    key: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A named sequence of steps, run under the listed settings variants."""

    name: str
    steps: list[Step]
    variants: tuple[str, ...] = ("default",)


def post(path: str, body: dict[str, Any] | None = None, label: str = "", **kw: Any) -> Step:
    """A POST to ``auth/<path>`` as alice (or ``user=``)."""
    return Step("post", f"auth/{path}", body or {}, label=label, **kw)


def get(path: str, label: str = "", **kw: Any) -> Step:
    """A GET of ``auth/<path>`` as alice (or ``user=``)."""
    return Step("get", f"auth/{path}", label=label, **kw)


def login(kind: str, body: dict[str, Any] | None = None, label: str = "", **kw: Any) -> Step:
    """Login step 1 of ``kind`` (``jwt`` or ``token``) with the user's password."""
    return Step("login", f"auth/{kind}/login/", body or {}, label=label, **kw)


def user(name: str = "alice", **fields: Any) -> Step:
    """Create a user with a known password and ``<name>@example.com``."""
    return Step("user", body=fields, user=name)


def wait(seconds: int) -> Step:
    """Move the clock forward."""
    return Step("wait", body={"seconds": seconds})


def activate_email(code_from: str | None = None) -> list[Step]:
    """Activate the email method (``code_from``: the primary's code reference)."""
    body = {"code": code_from} if code_from else {}
    return [post("email/activate/", body), post("email/activate/confirm/", {"code": "$email"})]


def activate_app(code_from: str | None = None) -> list[Step]:
    """Activate the authenticator app method."""
    body = {"code": code_from} if code_from else {}
    return [post("app/activate/", body), post("app/activate/confirm/", {"code": "$totp"})]


#: Ill-formed or wrong codes by the label of their case, in the order the
#: scenarios send them; ``MISSING`` leaves the field out of the body.
MISSING = object()
BAD_CODES: dict[str, Any] = {
    "missing code": MISSING,
    "blank code": "",
    "null code": None,
    "wrong code": "$wrong",
    "malformed code": "abc",
    "overlong code": "1" * 300,
    "number as code": 123456,
    "boolean as code": True,
    "list as code": ["1"],
    "non-ASCII digits": "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
}


def bad_codes(path: str, *labels: str, **fields: Any) -> list[Step]:
    """One POST to ``auth/<path>`` per label of :data:`BAD_CODES`, with ``fields`` besides.

    Every endpoint that takes a code is probed with the same refusals; one
    table keeps their bodies alike everywhere.
    """
    steps = []
    for label in labels:
        code = BAD_CODES[label]
        body = dict(fields) if code is MISSING else {**fields, "code": code}
        steps.append(post(path, body, label=label))
    return steps


#: The driver's reference to the last ephemeral token.
LAST_TOKEN = "$token"


def step2(kind: str, label: str = "", *, token: str | None = LAST_TOKEN, code: Any = None) -> Step:
    """Login step 2 of ``kind``, anonymous, with ``token`` and ``code`` (``None``: left out)."""
    body = {"ephemeral_token": token, "code": code}
    return post(
        f"{kind}/login/code/",
        {key: value for key, value in body.items() if value is not None},
        user=None,
        label=label,
    )


def _login_scenarios(kind: str) -> list[Scenario]:
    return [
        Scenario(
            f"{kind} login, step 1",
            [
                user(),
                user("carol", is_active=False),
                post(f"{kind}/login/", user=None, label="empty body"),
                post(f"{kind}/login/", {"username": "alice"}, user=None, label="missing password"),
                post(
                    f"{kind}/login/",
                    {"username": "", "password": "x"},
                    user=None,
                    label="blank username",
                ),
                login(kind, {"password": "wrong"}, label="wrong password"),
                login(kind, user="bob", label="unknown user"),
                login(kind, user="carol", label="inactive user"),
                login(kind, label="no MFA: tokens"),
            ],
        ),
        Scenario(
            f"{kind} login, step 2 with an email code",
            [
                user(),
                *activate_email(),
                login(kind, label="MFA on: challenge"),
                step2(kind, "missing token", token=None, code="$email"),
                step2(kind, "missing code"),
                step2(kind, "tampered token", token="not-a-token", code="$email"),
                step2(kind, "wrong code", code="$wrong"),
                step2(kind, "malformed code", code="abc"),
                step2(kind, "tampered token, malformed code", token="not-a-token", code="abc"),
                step2(kind, "number as code", code=12),
                step2(kind, "blank code", code=""),
                step2(kind, "right code: tokens", code="$email"),
                step2(kind, "the same token again", code="$email"),
            ],
        ),
        Scenario(
            f"{kind} login, step 2 with an authenticator app",
            [
                user(),
                *activate_app(),
                login(kind, label="MFA on: challenge"),
                step2(kind, "TOTP code: tokens", code="$totp"),
                login(kind),
                step2(kind, "backup code: tokens", code="$backup"),
                login(kind),
                wait(900),
                step2(kind, "expired token", code="$totp"),
            ],
        ),
    ]


SCENARIOS: list[Scenario] = [
    Scenario("config", [get("mfa/config/", user=None, label="anonymous")]),
    Scenario(
        "anonymous management",
        [
            post("email/activate/", user=None, label="activate"),
            post("email/activate/confirm/", {"code": "123456"}, user=None, label="confirm"),
            post("email/deactivate/", {"code": "123456"}, user=None, label="deactivate"),
            post("code/request/", user=None, label="code request"),
            get("mfa/user-active-methods/", user=None, label="active methods"),
            post("mfa/change-primary-method/", user=None, label="change primary"),
        ],
    ),
    Scenario(
        "activate email",
        [
            user(),
            get("mfa/user-active-methods/", label="no methods yet"),
            post("sms/activate/", label="unknown method"),
            post("email/activate/", label="dispatch"),
            *bad_codes("email/activate/confirm/", *BAD_CODES),
            post("email/activate/confirm/", {"code": "$email"}, label="right code"),
            post("email/activate/confirm/", {"code": "$email"}, label="again: already active"),
            post("email/activate/", label="activate again: already active"),
            get("mfa/user-active-methods/", label="one method"),
        ],
    ),
    Scenario(
        "confirm without activation",
        [
            user(),
            post("email/activate/confirm/", {"code": "123456"}, label="not started"),
            post("sms/activate/confirm/", {"code": "123456"}, label="unknown method"),
            post("sms/activate/confirm/", label="unknown method, missing code"),
        ],
    ),
    Scenario(
        "activate email, code expired",
        [
            user(),
            post("email/activate/"),
            wait(900),
            post("email/activate/confirm/", {"code": "$email"}, label="expired code"),
        ],
    ),
    Scenario(
        "activate app",
        [
            user(),
            post("app/activate/", label="otpauth uri"),
            post("app/activate/confirm/", {"code": "$wrong"}, label="wrong code"),
            post("app/activate/confirm/", {"code": "$totp"}, label="right code"),
            get("mfa/user-active-methods/", label="one method"),
        ],
    ),
    Scenario(
        "second method",
        [
            user(),
            *activate_app(),
            post("email/activate/", label="without a code"),
            post("email/activate/", {"code": "$totp"}, label="with the primary's code"),
            post("email/activate/confirm/", {"code": "$email"}, label="confirm: no new codes"),
            get("mfa/user-active-methods/", label="two methods"),
        ],
    ),
    Scenario(
        "deactivate",
        [
            user(),
            *activate_app(),
            *activate_email("$totp"),
            *bad_codes(
                "email/deactivate/", "missing code", "blank code", "wrong code", "malformed code"
            ),
            post("sms/deactivate/", {"code": "123456"}, label="unknown method"),
            post("app/deactivate/", {"code": "$totp"}, label="primary, others active"),
            post("email/deactivate/", {"code": "$backup"}, label="backup code"),
            post("email/deactivate/", {"code": "$backup"}, label="inactive method"),
            get("mfa/user-active-methods/", label="one method left"),
            post("app/deactivate/", {"code": "$totp"}, label="the last method"),
            get("mfa/user-active-methods/", label="no methods left"),
            login("jwt", label="login after MFA off: tokens"),
        ],
    ),
    Scenario(
        "deactivate without MFA",
        [
            user(),
            post("email/deactivate/", {"code": "123456"}, label="never activated"),
            post("email/deactivate/", label="never activated, missing code"),
        ],
    ),
    Scenario(
        "regenerate backup codes",
        [
            user(),
            *activate_app(),
            *bad_codes("app/codes/regenerate/", "missing code", "wrong code", "malformed code"),
            post("sms/codes/regenerate/", {"code": "$totp"}, label="unknown method"),
            post("email/codes/regenerate/", {"code": "$totp"}, label="inactive method"),
            post("app/codes/regenerate/", {"code": "$totp"}, label="TOTP code"),
            post("app/codes/regenerate/", {"code": "$backup"}, label="backup code"),
        ],
    ),
    Scenario(
        "change primary method",
        [
            user(),
            *activate_app(),
            *activate_email("$totp"),
            post("mfa/change-primary-method/", label="empty body"),
            post("mfa/change-primary-method/", {"code": "$totp"}, label="missing method"),
            post("mfa/change-primary-method/", {"method": "email"}, label="missing code"),
            post(
                "mfa/change-primary-method/",
                {"method": "sms", "code": "$totp"},
                label="unknown method",
            ),
            *bad_codes(
                "mfa/change-primary-method/", "wrong code", "malformed code", method="email"
            ),
            post(
                "mfa/change-primary-method/",
                {"method": "email", "code": "$totp"},
                label="right code",
            ),
            get("mfa/user-active-methods/", label="email is primary"),
        ],
    ),
    Scenario(
        "change primary method without MFA",
        [
            user(),
            post(
                "mfa/change-primary-method/",
                {"method": "email", "code": "123456"},
                label="no active method",
            ),
        ],
    ),
    Scenario(
        "change primary method to an inactive one",
        [
            user(),
            *activate_app(),
            post(
                "mfa/change-primary-method/",
                {"method": "email", "code": "$totp"},
                label="never activated",
            ),
        ],
    ),
    Scenario(
        "request a code",
        [
            user(),
            post("code/request/", label="no MFA"),
            *activate_email(),
            wait(61),
            post("code/request/", label="primary"),
            post("code/request/", {"method": "email"}, label="again within a minute"),
            wait(61),
            post("code/request/", {"method": "email"}, label="named method"),
            post("code/request/", {"method": "sms"}, label="unknown method"),
            post("code/request/", {"method": "app"}, label="not activated"),
            post("app/activate/", {"code": "$email"}),
            post("code/request/", {"method": "app"}, label="activation pending"),
            post("code/request/", {"method": ""}, label="blank method"),
            post("code/request/", {"method": 7}, label="number as method"),
            wait(61),
            post("code/request/"),
            *activate_app("$email"),
            post("code/request/", {"method": "app"}, label="authenticator app"),
        ],
    ),
    *_login_scenarios("jwt"),
    *_login_scenarios("token"),
    Scenario(
        "authtoken key across enabling MFA",
        [
            user(),
            login("token"),
            post("email/activate/", key="$key"),
            post("email/activate/confirm/", {"code": "$email"}, key="$key", label="confirm"),
            get("mfa/user-active-methods/", key="$first_key", label="the key from before MFA"),
            get("mfa/user-active-methods/", key="$key", label="the last key answered"),
        ],
    ),
    Scenario(
        "without confirmation codes",
        [
            user(),
            *activate_email(),
            post("email/codes/regenerate/", label="regenerate without a code"),
            post("email/deactivate/", label="deactivate without a code"),
            post("email/deactivate/", label="deactivate again"),
        ],
        variants=("no-confirm",),
    ),
    Scenario(
        "regeneration disabled",
        [
            user(),
            *activate_email(),
            post("code/request/"),
            post("email/codes/regenerate/", {"code": "$email"}, label="regenerate"),
            post("email/codes/regenerate/", label="regenerate without a code"),
        ],
        variants=("no-regeneration",),
    ),
]
