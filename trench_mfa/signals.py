"""Signals sent by trench_mfa, for projects that want their own handling.

Every signal is sent with ``sender`` = the service function's module name
and keyword arguments ``user`` and ``method`` (a method name or ``None``).
No signal ever carries a code, secret or token.
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
