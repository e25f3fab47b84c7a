"""Bind email and SMS methods to an address or number (``MFAMethod.destination``).

Codes of an active method now go to the destination bound when it was
activated, not to whatever the user's profile says when a code is sent.
Methods already active when this migration runs are bound to the user's
value of that moment (the value their codes went to until now), as their
dispatcher reads and checks it. A row whose user has no valid value then
stays unbound and sends nothing until it is activated again.
"""

from django.conf import settings
from django.db import migrations, models


def bind_active_methods(apps, schema_editor):
    # Imported here: the dispatchers read the method settings, which only
    # this step needs.
    from trench_mfa.services.destinations import current_destination
    from trench_mfa.state.destinations import seal

    method_model = apps.get_model("trench_mfa", "MFAMethod")
    rows = method_model.objects.using(schema_editor.connection.alias)
    unbound = rows.filter(is_active=True, destination="").select_related("user").order_by("pk")
    for method in unbound.iterator(chunk_size=500):
        value = current_destination(method)
        if value is not None:
            rows.filter(pk=method.pk, destination="").update(destination=seal(value))


class Migration(migrations.Migration):

    dependencies = [
        ('trench_mfa', '0006_hardcode_guard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='mfamethod',
            name='destination',
            field=models.TextField(blank=True, default='', editable=False, verbose_name='destination'),
        ),
        migrations.RunPython(bind_active_methods, migrations.RunPython.noop, elidable=False),
    ]
