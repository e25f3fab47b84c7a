"""Receivers on the user model: verify identifiers when they are set or changed.

When a user is created, each identifier of ``IDENTIFIERS`` with a value is
either recorded as confirmed (``CONFIRMED_ON_CREATE``) or sent a
verification code. When a value changes, its confirmation is reset and a
code goes to the new value. Codes are sent after the transaction commits
(``transaction.on_commit``), so a rolled-back sign-up sends nothing; a
failed send is logged and never breaks the save.

Values are compared with those the instance was loaded with (captured in
``post_init``), so only ``save()`` is seen. A change made with
``QuerySet.update()`` sends nothing, but it is still unconfirmed: a value
counts as confirmed only while it matches the stored digest.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_init, post_save

from trench_mfa.exceptions import MFAError
from trench_mfa.flows import Identifier, identifiers
from trench_mfa.state import identity

logger = logging.getLogger("trench_mfa.identifiers")

#: Where the loaded values are kept on the instance.
_SNAPSHOT = "_trench_mfa_identifier_values"
_MISSING = object()


def _verified_fields() -> dict[str, Identifier]:
    try:
        return dict(identifiers())
    except ImproperlyConfigured:
        # The system checks report it; loading users must keep working.
        return {}


def remember_values(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_init``: keep the identifier values the instance was loaded with."""
    fields = _verified_fields()
    if fields:
        # Deferred fields are not in __dict__: such a value is not compared.
        instance.__dict__[_SNAPSHOT] = {f: instance.__dict__.get(f, _MISSING) for f in fields}


def _changed(before: dict[str, Any], instance: Any, field: str) -> bool:
    old = before.get(field, _MISSING)
    if old is _MISSING:
        return False
    old_text, new_text = identity.as_text(old), identity.current_value(instance, field)
    if old_text is None or new_text is None:
        return old_text != new_text
    return identity.normalise(old_text) != identity.normalise(new_text)


def on_user_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """``post_save``: confirm, reset and send codes as described above."""
    fields = _verified_fields()
    if raw or not fields:
        return
    from trench_mfa.services import identifiers as service

    update_fields = kwargs.get("update_fields")
    before = instance.__dict__.get(_SNAPSHOT, {})
    for field, ident in fields.items():
        if update_fields is not None and field not in update_fields:
            continue
        value = identity.current_value(instance, field)
        if created:
            if value is None:
                continue
            if ident.confirmed_on_create:
                service.mark_confirmed(instance, field)
                continue
        elif not _changed(before, instance, field):
            continue
        else:
            service.reset(instance, field)
            if value is None:
                continue
        transaction.on_commit(partial(send_code_after_commit, instance.pk, field))
    instance.__dict__[_SNAPSHOT] = {f: instance.__dict__.get(f, _MISSING) for f in fields}


def send_code_after_commit(user_pk: Any, field: str) -> None:
    """Send the verification code of ``field``, unless it got confirmed meanwhile."""
    from trench_mfa.services import identifiers as service

    user = get_user_model()._default_manager.filter(pk=user_pk).first()
    if user is None or field not in _verified_fields() or service.is_confirmed(user, field):
        return
    try:
        service.request_code(user, field)
    except MFAError as exc:
        # e.g. inside the cooldown, an invalid number or a provider outage:
        # the user can ask again (POST verification/request/).
        logger.warning(
            "No verification code sent for %s of user %s: %s", field, user_pk, exc.error_code
        )


def connect() -> None:
    """Connect the receivers to ``AUTH_USER_MODEL`` (once)."""
    model = settings.AUTH_USER_MODEL
    post_init.connect(remember_values, sender=model, dispatch_uid="trench_mfa.identifiers.init")
    post_save.connect(on_user_saved, sender=model, dispatch_uid="trench_mfa.identifiers.save")
