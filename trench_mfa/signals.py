"""Signals sent by trench_mfa, for projects that want their own handling.

Every signal is sent with ``sender`` = the service function's module name
and keyword arguments ``user``, ``method`` (a method name or ``None``),
``request`` (or ``None`` outside a request, e.g. support commands) and ``ip``
(see :func:`trench_mfa.state.audit.client_ip`). ``code_sent``, ``code_verified``,
``verification_failed``, ``backup_code_used`` and ``locked_out`` also carry
``purpose``; ``verification_failed`` carries ``reason``: ``"invalid_code"``
(evaluated and wrong), ``"throttled"`` (refused by the back-off) or
``"locked"`` (refused by the lockout). ``backup_code_used`` names the method
whose check the backup code answered; ``locked_out`` names ``"hardcode"``
when wrong hardcodes locked a user's hardcode (see
:mod:`trench_mfa.services.hardcode`). No signal ever carries a code, secret
or token. trench_mfa's own receiver (:mod:`trench_mfa.state.audit`) turns each of
these into one ``MFAEvent`` and one log line.

The signals of a code check (``code_verified``, ``verification_failed``,
``backup_code_used``, ``locked_out``) are sent inside the transaction that
records the check: a receiver's writes commit with it, and a receiver that
raises rolls the check back. Defer slow work with ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

mfa_method_activated = Signal()
mfa_method_deactivated = Signal()
primary_method_changed = Signal()
code_sent = Signal()
code_verified = Signal()
verification_failed = Signal()
backup_code_used = Signal()
backup_codes_regenerated = Signal()
locked_out = Signal()
#: A queued code (``DISPATCH = "celery"``) was given up: sent after the task's
#: last retry (or when queueing failed) with ``purpose`` and ``reason``
#: (``"send_failed"``, ``"enqueue_failed"`` or ``"expired"``).
dispatch_failed = Signal()
#: A device was remembered after a login (``device``: its display name).
device_remembered = Signal()
#: A remembered device's token skipped the second factor of a login.
device_used = Signal()
#: A device token was presented at login and ignored (expired, revoked,
#: another user's or not one at all): normal MFA applied.
device_rejected = Signal()
#: Remembered devices were revoked (``reason``: what revoked them).
devices_revoked = Signal()
