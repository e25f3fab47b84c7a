"""Create (or reset) the demo's users: ``demo`` for the README walk-throughs, ``admin`` for /admin/.

``testproject/manage.py`` runs this command under the demo's settings
(``testproject.settings_flows``) whatever ``DJANGO_SETTINGS_MODULE`` says, so
``.venv/bin/python testproject/manage.py create_demo_user --reset`` resets
the user that ``make run`` serves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from trench_mfa.flows import identifiers
from trench_mfa.models import SendQuota
from trench_mfa.services import hardcode
from trench_mfa.services import identifiers as verification
from trench_mfa.state.send_limits import recipient_key

USERNAME = "demo"
EMAIL = "demo@example.com"
PASSWORD = "demo-pass-2026"
PHONE_NUMBER = "+48600100200"
#: The demo user's hardcode (PIN) for the phone flow of testproject.settings_flows.
HARDCODE = "2468"
#: The superuser of the demo's Django admin (http://127.0.0.1:8000/admin/).
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-pass-2026"
#: Delivery channels whose per-destination send caps the reset clears
#: (``CodeDispatcher.channel`` of the email and SMS methods).
_CHANNELS = ("email", "sms")


class Command(BaseCommand):
    """Create the demo user and the admin user; ``--reset`` starts them afresh."""

    help = (
        "Create the demo user and the admin superuser (idempotent: existing ones get their "
        "passwords reset). With --reset, delete them first, together with their MFA methods, "
        "backup codes, tokens, hardcode and confirmed identifiers, and clear the send caps "
        "of the demo address and number."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """``--reset``."""
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users (and everything MFA attached to them) before creating "
            "them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Create (or reset) both users and print how to log in."""
        user_model = get_user_model()
        if options["reset"]:
            # Everything MFA hangs off the user (cascade); the send caps are
            # keyed by destination, so they outlive the user otherwise.
            user_model._default_manager.filter(username__in=[USERNAME, ADMIN_USERNAME]).delete()
            SendQuota.objects.filter(
                key__in=[
                    recipient_key(channel, destination)
                    for channel in _CHANNELS
                    for destination in (EMAIL, PHONE_NUMBER)
                ]
            ).delete()
        # One transaction: the verification codes a new user's email and
        # phone number would get are sent after the commit, when the values
        # are already confirmed (so nothing is sent at all).
        with transaction.atomic():
            user, created = user_model._default_manager.get_or_create(
                username=USERNAME,
                defaults={"email": EMAIL, "phone_number": PHONE_NUMBER},
            )
            user.email = EMAIL
            user.phone_number = PHONE_NUMBER
            user.is_active = True
            user.set_password(PASSWORD)
            user.save()
            self.trust_identifiers(user)
            self.create_admin()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} demo user (settings: {self.settings_name()}).")
        )
        self.stdout.write(f"  username: {USERNAME}")
        self.stdout.write(f"  password: {PASSWORD}")
        self.stdout.write(f"  email:    {EMAIL}")
        self.stdout.write(f"  phone:    {PHONE_NUMBER}")
        if identifiers():
            self.stdout.write(f"  hardcode: {HARDCODE} (email and phone confirmed)")
        self.stdout.write(f"  admin:    {ADMIN_USERNAME} / {ADMIN_PASSWORD} (/admin/)")

    def trust_identifiers(self, user: Any) -> None:
        """With IDENTIFIERS on: the demo address and number count as confirmed."""
        if not identifiers():
            return
        for field in identifiers():
            verification.mark_confirmed(user, field)
        hardcode.store_hardcode(user, HARDCODE)

    def create_admin(self) -> None:
        """The admin site's superuser: no email or number, so no verification is sent."""
        admin, _created = get_user_model()._default_manager.get_or_create(username=ADMIN_USERNAME)
        admin.email = ""
        admin.is_active = admin.is_staff = admin.is_superuser = True
        admin.set_password(ADMIN_PASSWORD)
        admin.save()

    @staticmethod
    def settings_name() -> str:
        """The settings module in force (``manage.py`` picks the demo's)."""
        return str(getattr(settings, "SETTINGS_MODULE", "") or "configured in code")
