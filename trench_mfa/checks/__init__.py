"""System checks (``manage.py check``): settings, login flows, permission classes.

Importing this package registers them all (done in ``AppConfig.ready``).
"""

from trench_mfa.checks import flows, permissions, settings, webauthn  # noqa: F401  (registers)
