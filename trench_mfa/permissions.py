"""``IsMFAAuthenticated``: a DRF permission for views that need a login with MFA.

It reads the ``amr`` and ``mfa_at`` claims that trench_mfa's JWT login views
put into simplejwt tokens (see :mod:`trench_mfa.login.amr`)::

    from trench_mfa.permissions import IsMFAAuthenticated

    class PayoutView(APIView):
        permission_classes = [IsMFAAuthenticated]

A request passes when it is authenticated by a simplejwt token whose ``amr``
holds one of ``TRENCH_AUTH["MFA_ACCEPTED_AMR"]`` (default ``["mfa"]``: a
code and another factor) and whose ``mfa_at`` is an integer no more than
``TRENCH_AUTH["MFA_MAX_AGE"]`` seconds old (``None``: any age). Everything
else is refused: a request without credentials gets DRF's ``401``; an
authenticated one that carries no such proof (an authtoken key, a session,
a JWT from another issuer or without the claims) gets ``403``
``mfa_required``, and one whose proof is too old ``403`` ``mfa_expired``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from trench_mfa.conf import mfa_settings
from trench_mfa.login.amr import AMR_CLAIM, MFA_AT_CLAIM

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

MFA_REQUIRED = "mfa_required"
MFA_EXPIRED = "mfa_expired"


def jwt_claims(auth: Any) -> Mapping[str, Any] | None:
    """The claims of a simplejwt token (``request.auth``), or ``None`` for anything else."""
    try:
        from rest_framework_simplejwt.tokens import Token
    except ImportError:  # pragma: no cover - simplejwt is an optional dependency
        return None
    return auth.payload if isinstance(auth, Token) else None


def mfa_age(claims: Mapping[str, Any]) -> int | None:
    """Seconds since the token's MFA, or ``None`` when its claims prove none.

    Proof means an ``amr`` list with one of ``MFA_ACCEPTED_AMR`` and an
    integer ``mfa_at``. A time in the future (clock skew between servers)
    counts as age 0.
    """
    amr = claims.get(AMR_CLAIM)
    mfa_at = claims.get(MFA_AT_CLAIM)
    if not isinstance(amr, list) or not isinstance(mfa_at, int) or isinstance(mfa_at, bool):
        return None
    accepted = mfa_settings.MFA_ACCEPTED_AMR
    if not isinstance(accepted, list | tuple | set | frozenset):
        return None  # misconfigured (check E170): fail closed
    if not set(accepted) & {v for v in amr if isinstance(v, str)}:
        return None
    return max(0, int(timezone.now().timestamp()) - mfa_at)


class IsMFAAuthenticated(BasePermission):
    """Allow requests whose simplejwt token proves a login with MFA (see the module doc)."""

    message: Any = _("This action requires a login with multi-factor authentication.")
    code = MFA_REQUIRED

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Whether the request's token proves a recent enough MFA."""
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401 (or 403 without an authenticator)
        claims = jwt_claims(request.auth)
        age = mfa_age(claims) if claims is not None else None
        if age is None:
            return False
        max_age = mfa_settings.MFA_MAX_AGE
        if max_age is not None and not (isinstance(max_age, int) and max_age > 0):
            max_age = -1  # misconfigured (check E171): fail closed
        if max_age is not None and age > max_age:
            # DRF makes a new instance per check, so this message is per request.
            self.message = _("Your multi-factor authentication is too old: log in again.")
            self.code = MFA_EXPIRED
            return False
        return True
