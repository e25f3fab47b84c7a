"""Failure counters of hardcode checks: back-off and lockout of a flow's second secret.

Keyed by a keyed hash of the user (or of an identifier nobody uses), so a
wrong hardcode counts per user across tokens and client IPs.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trench_mfa', '0005_login_challenge_reverse_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='HardcodeGuard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=64, unique=True)),
                ('failure_count', models.PositiveIntegerField(default=0, verbose_name='consecutive failures')),
                ('last_failure_at', models.DateTimeField(blank=True, null=True, verbose_name='last failure at')),
                ('locked_until', models.DateTimeField(blank=True, null=True, verbose_name='locked until')),
                ('updated_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'hardcode failure counter',
                'verbose_name_plural': 'hardcode failure counters',
            },
        ),
    ]
