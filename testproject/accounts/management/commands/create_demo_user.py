"""Create (or reset) the demo user used by ``make run`` and the README walk-through."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from trench_mfa.flows import identifiers
from trench_mfa.services import hardcode
from trench_mfa.services import identifiers as verification

USERNAME = "demo"
EMAIL = "demo@example.com"
PASSWORD = "demo-pass-2026"
PHONE_NUMBER = "+48600100200"
#: The demo user's hardcode (PIN) for the phone flow of testproject.settings_flows.
HARDCODE = "2468"


class Command(BaseCommand):
    help = (
        "Create the demo user (idempotent: an existing demo user gets its password reset). "
        "With --reset, delete it first, together with its MFA methods, backup codes and tokens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo user (and everything MFA attached to it) before creating it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if options["reset"]:
            user_model._default_manager.filter(username=USERNAME).delete()
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
        verb = "Created" if created else "Reset"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo user."))
        self.stdout.write(f"  username: {USERNAME}")
        self.stdout.write(f"  password: {PASSWORD}")
        self.stdout.write(f"  email:    {EMAIL}")
        self.stdout.write(f"  phone:    {PHONE_NUMBER}")
        if identifiers():
            self.stdout.write(f"  hardcode: {HARDCODE} (email and phone confirmed)")

    def trust_identifiers(self, user: Any) -> None:
        """With IDENTIFIERS on: the demo address and number count as confirmed."""
        if not identifiers():
            return
        for field in identifiers():
            verification.mark_confirmed(user, field)
        hardcode.store_hardcode(user, HARDCODE)
