"""The admin behind MFA (``/mfa-admin/``): the same pages as ``/admin/``.

``/admin/`` stays Django's plain site, so the demo and the tests of the
model admins can use it with a password alone; ``/mfa-admin/`` is what a
project opting into :class:`trench_mfa.admin.mfa_site.MFAAdminSite` gets.
"""

from __future__ import annotations

from django.contrib import admin

from trench_mfa.admin.mfa_site import MFAAdminSite

site = MFAAdminSite(name="mfa_admin")
for model, model_admin in admin.site._registry.items():
    site.register(model, type(model_admin))
