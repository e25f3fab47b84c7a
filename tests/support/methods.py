"""Method rows made directly in the database, as activation would leave them.

Activation binds an email or SMS method to the address or number its code
went to; a row created active by hand has no destination and sends nothing.
:func:`bound_method` creates it bound to the user's current value, the way
a project binds rows it imports (``trench_mfa.services.destinations``).
"""

from __future__ import annotations

from typing import Any

from trench_mfa.models import MFAMethod
from trench_mfa.services.destinations import bind_to_profile


def bound_method(user: Any, name: str, **fields: Any) -> MFAMethod:
    """An active method ``name`` of ``user``, bound to the user's current value."""
    method = MFAMethod.objects.create(user=user, name=name, is_active=True, **fields)
    method.user = user
    bind_to_profile(method)
    return method
