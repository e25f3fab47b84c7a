"""The data migration binds methods that were active before it to the user's value then.

The schema is taken back to the migration before the one that adds
``MFAMethod.destination``; rows are written there with the historical
models, as an older version left them; migrating forward binds every active
email and SMS method to what its dispatcher read from the profile at that
moment. A later profile edit then no longer moves the factor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.destination_binding.conftest import ATTACKERS, ORIGINAL
from tests.support.smtp import Mailbox
from trench_mfa.models import MFAMethod
from trench_mfa.state import destinations

pytestmark = pytest.mark.django_db(transaction=True)

Node = tuple[str, str]


def binding_migration(loader: MigrationLoader) -> tuple[Node, Node]:
    """The migration that adds ``MFAMethod.destination``, and the one before it.

    Found by its operation, not its number: migrations may be renumbered.
    """
    for (app, name), migration in loader.disk_migrations.items():
        adds = [
            op
            for op in migration.operations
            if isinstance(op, AddField) and (op.model_name, op.name) == ("mfamethod", "destination")
        ]
        if app == "trench_mfa" and adds:
            parent = next(dep for dep in migration.dependencies if dep[0] == "trench_mfa")
            return (app, name), (parent[0], parent[1])
    raise AssertionError("no migration adds MFAMethod.destination")


@pytest.fixture
def before_binding() -> Iterator[tuple[Any, Callable[[], None]]]:
    """The schema before the binding: (historical apps, migrate forward to it).

    The schema is brought back to the newest migrations afterwards.
    """
    executor = MigrationExecutor(connection)
    target, parent = binding_migration(executor.loader)
    executor.migrate([parent])
    historical = executor.loader.project_state([parent]).apps

    def migrate_forward() -> None:
        # Through the binding to the newest schema: the test then reads the
        # rows with today's models, which know the columns of later migrations.
        MigrationExecutor(connection).migrate([target])
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    try:
        yield historical, migrate_forward
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_active_email_and_sms_methods_are_bound_to_the_values_of_the_moment(
    before_binding: tuple[Any, Callable[[], None]],
    user_factory: Callable[..., Any],
    mailbox: Mailbox,
) -> None:
    historical, migrate_forward = before_binding
    old_method = historical.get_model("trench_mfa", "MFAMethod")
    alice = user_factory(username="alice", email=ORIGINAL, phone_number="+48 600 100 200")
    bob = user_factory(username="bob", email="bob@example.com")
    nobody = user_factory(username="nobody", email="", phone_number="")
    rows = {
        "email": old_method.objects.create(
            user_id=alice.pk, name="email", is_active=True, is_primary=True
        ),
        "sms": old_method.objects.create(user_id=alice.pk, name="sms", is_active=True),
        "app": old_method.objects.create(user_id=alice.pk, name="app", is_active=True),
        "no longer configured": old_method.objects.create(
            user_id=alice.pk, name="retired", is_active=True
        ),
        "pending": old_method.objects.create(
            user_id=bob.pk, name="email", activation_started_at=timezone.now()
        ),
        "no address": old_method.objects.create(user_id=nobody.pk, name="email", is_active=True),
    }

    migrate_forward()

    bound = {
        label: destinations.read(MFAMethod.objects.get(pk=row.pk)) for label, row in rows.items()
    }
    assert bound == {
        "email": ORIGINAL,
        "sms": "+48600100200",  # as the SMS dispatcher normalises it
        "app": None,
        "no longer configured": None,
        "pending": None,
        "no address": None,  # sends nothing until activated again
    }
    changed = get_user_model().objects.get(pk=alice.pk)
    changed.email = ATTACKERS
    changed.save()
    assert APIClient().post("/auth/jwt/login/", credentials(changed)).status_code == 200
    assert mailbox.recipients == [ORIGINAL]
