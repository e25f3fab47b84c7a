"""How trench_mfa's code refers to the project's user model, and to requests."""

from __future__ import annotations

from typing import Any, TypeAlias

from django.http import HttpRequest
from rest_framework.request import Request

#: The swappable ``AUTH_USER_MODEL``. It is only known at run time (and
#: django-stubs resolves it to the type checker's test project), so services
#: accept any user object and rely on ``pk``, ``USERNAME_FIELD`` and
#: ``USER_ACTIVE_FIELD`` only.
AnyUser: TypeAlias = Any

#: The primary key of ``AnyUser``: an int by default, but a UUID or a string
#: with some custom user models, so never parse or format it as a number.
UserPk: TypeAlias = Any

#: The request a service may be given (for the audit log and dispatchers):
#: DRF's ``Request``, Django's ``HttpRequest`` (admin, commands) or none.
AnyRequest: TypeAlias = Request | HttpRequest | None
