"""Name the reverse relation user -> login challenges (state only, no SQL).

Login step 2 reads a challenge with its user's method rows in one query,
which needs a queryable reverse name instead of ``"+"``.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trench_mfa', '0004_flows_and_identifiers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='loginchallenge',
            name='user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='mfa_login_challenges', to=settings.AUTH_USER_MODEL),
        ),
    ]
