"""Phantom method rows: the state of decoy logins, in the tables real logins use.

A passwordless login for an identifier nobody can use keeps its codes,
cooldowns and failure counters in a method row without a user, named by a
keyed hash of the method and the identifier (``phantom``, unique; ``NULL``
on users' rows). The check constraint keeps a row either a user's or a
phantom, and a phantom never active or primary.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trench_mfa', '0008_remembered_devices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='mfamethod',
            name='phantom',
            field=models.CharField(blank=True, default=None, editable=False, max_length=64, null=True, unique=True, verbose_name='phantom key'),
        ),
        migrations.AlterField(
            model_name='mfamethod',
            name='user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='mfa_methods', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AddConstraint(
            model_name='mfamethod',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('user__isnull', False), ('phantom__isnull', True)), models.Q(('user__isnull', True), ('phantom__isnull', False), ('is_active', False), ('is_primary', False)), _connector='OR'), name='trench_mfa_user_or_phantom'),
        ),
    ]
