"""The Django admin of trench_mfa: methods, codes and the audit log; flows' rows.

Deleting or disabling a method here goes through the same service as the
API (:mod:`trench_mfa.services.admin`).
"""

from trench_mfa.admin import flows, methods, webauthn  # noqa: F401  (registers the admins)
