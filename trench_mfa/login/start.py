"""Login step 1: pick the flow, check its knowledge secrets, open the challenge.

:func:`start_login` uses the first active flow (:func:`trench_mfa.flows.active_flows`:
``FLOWS``, or django-trench's username and password) whose identifier and
knowledge secrets (``password``, ``hardcode``) are all in the request and
correct, and whose code factors the user can answer. Each knowledge secret
costs one slow hash whatever the outcome (a dummy hash for an unknown
identifier), so step 1 takes the same time for every identifier. Wrong
tries at a flow with a hardcode are counted, and refused for a while, per
user (:func:`trench_mfa.services.hardcode.guarded`). A flow without code
factors gets the user's primary MFA method on top, as django-trench's login
does. The code factors are :mod:`trench_mfa.login.factors`' business.

A passwordless flow never reveals whether its identifier exists: see
:mod:`trench_mfa.login.decoys`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from trench_mfa import flows
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import Throttled, Unauthenticated
from trench_mfa.flows import HARDCODE, PASSWORD, Flow, active_flows
from trench_mfa.login import decoys, factors, gate
from trench_mfa.login.steps import LoginStep
from trench_mfa.services import hardcode, identifiers
from trench_mfa.state import identity
from trench_mfa.user import AnyRequest, AnyUser

if TYPE_CHECKING:
    pass


def _lookup(field: str, value: str) -> AnyUser | None:
    """The one user whose ``field`` is ``value`` (confirmed, when verified), else ``None``."""
    model = get_user_model()
    manager = model._default_manager
    if field == model.USERNAME_FIELD:
        try:
            return manager.get_by_natural_key(value)
        except model.DoesNotExist:
            return None
    lookup = f"{field}__iexact" if identity.ignores_case(field) else field
    users = manager.filter(**{lookup: value})
    if field in flows.identifiers():
        # Only confirmed values count: a copy of someone's address or number
        # on another account (unconfirmed) must not lock the owner out.
        users = users.filter(pk__in=identifiers.confirmed_user_ids(field, value))
    found = list(users[:2])
    return found[0] if len(found) == 1 else None


def find_user(field: str, value: str) -> AnyUser | None:
    """The one active user whose ``field`` is ``value`` and confirmed, else ``None``.

    ``USERNAME_FIELD`` is looked up like Django does (``get_by_natural_key``);
    email fields ignore case; a value shared by several users whose value is
    confirmed (or, for a field ``IDENTIFIERS`` does not verify, by several
    users) matches none. A value the field cannot hold (``"abc"`` for an
    integer or date field) matches nobody.
    """
    try:
        user = _lookup(field, value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        user = None
    if user is None or not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False):
        return None
    if not identifiers.is_confirmed(user, field):
        return None
    return user


@sensitive_variables()
def _authenticate(request: AnyRequest, username: str, password: str) -> AnyUser | None:
    """The active user with this ``USERNAME_FIELD`` value and password, through Django's backends.

    An unknown username costs the backend's dummy hash, so every answer
    costs one password hash.
    """
    credentials = {get_user_model().USERNAME_FIELD: username, "password": password}
    user = authenticate(request, **credentials)
    if user is None or not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False):
        return None
    return user


@sensitive_variables()
def _check_knowledge(
    request: AnyRequest, flow: Flow, user: AnyUser | None, data: dict[str, Any]
) -> AnyUser | None:
    """``user`` when every knowledge secret of ``flow`` is right, else ``None``."""
    ok = user is not None
    for secret in flow.knowledge:
        if secret == PASSWORD:
            if user is None:
                # What Django's ModelBackend does for an unknown username.
                get_user_model()().set_password(data[PASSWORD])
                continue
            found = _authenticate(request, user.get_username(), data[PASSWORD])
            if found is None or found.pk != user.pk:
                ok = False
            else:
                user = found
        elif secret == HARDCODE and not hardcode.check_hardcode(user, data[HARDCODE]):
            ok = False
    return user if ok else None


@sensitive_variables()
def _knowing_user(request: AnyRequest, flow: Flow, data: dict[str, Any]) -> AnyUser | None:
    """The user whose identifier and knowledge secrets ``data`` holds, else ``None``."""
    value = data[flow.identifier]
    if flow.identifier == get_user_model().USERNAME_FIELD and PASSWORD in flow.knowledge:
        # django-trench's login: Django's backends find the user and check the
        # password in one go (custom backends and their signals included).
        user = _authenticate(request, value, data[PASSWORD])
        if (
            user is not None
            and flows.login_flows() is not None  # django-trench's own login asks no more
            and not identifiers.is_confirmed(user, flow.identifier)
        ):
            user = None
        rest = Flow(flow.identifier, tuple(s for s in flow.secrets if s != PASSWORD), ())
        return _check_knowledge(request, rest, user, data) if rest.knowledge else user
    return _check_knowledge(request, flow, find_user(flow.identifier, value), data)


@sensitive_variables()
def _guarded_knowing_user(request: AnyRequest, flow: Flow, data: dict[str, Any]) -> AnyUser | None:
    """:func:`_knowing_user` for a flow that asks for a hardcode, under its back-off and lockout.

    Any wrong secret of such a flow counts (a wrong password too, so the
    count cannot tell which secret was wrong), against the user the
    identifier names, or the identifier itself when it names nobody.
    Raises :class:`~trench_mfa.exceptions.Throttled` (429) while refused.
    """
    value = data[flow.identifier]
    subject = find_user(flow.identifier, value)
    return hardcode.guarded(
        hardcode.guard_key(subject, flow.identifier, value),
        lambda: _knowing_user(request, flow, data),
        user=subject,
        request=request,
    )


@sensitive_variables()
def start_login(request: AnyRequest, data: dict[str, Any]) -> LoginStep:
    """Login step 1: tokens, or the challenge of the first code factor.

    400 ``unauthenticated`` when no flow fits (unknown user, wrong password,
    inactive user: the same answer at the same cost); a passwordless flow
    always answers with a challenge (a decoy when nobody can use the
    identifier). A flow with a hardcode that is in its back-off or lockout
    is skipped; when no other flow fits, the answer is its 429.
    """
    refused: Throttled | None = None
    for flow in active_flows():
        if flow.identifier not in data or any(name not in data for name in flow.knowledge):
            continue
        if flow.passwordless:
            value = data[flow.identifier]
            user = find_user(flow.identifier, value)
            needed = factors.code_factors(flow, user) if user is not None else None
            if not needed:
                # Nobody can log in with this value: a decoy, on the same path.
                return factors.open_challenge(request, flow, None, decoys.plan(flow, value))
            return factors.open_challenge(request, flow, user, needed)
        if HARDCODE in flow.knowledge:
            try:
                user = _guarded_knowing_user(request, flow, data)
            except Throttled as exc:
                refused = refused or exc
                continue
        else:
            user = _knowing_user(request, flow, data)
        if user is None:
            continue
        needed = factors.code_factors(flow, user)
        if needed is None:
            continue  # this user cannot answer the flow's code factors
        return gate.next_step(request, flow, user, needed, data)
    if refused is not None:
        raise refused
    raise Unauthenticated()
