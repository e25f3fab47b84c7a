"""WebAuthn: registered credentials, issued challenges, and their audit events."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trench_mfa', '0009_phantom_methods'),
    ]

    operations = [
        migrations.AlterField(
            model_name='mfaevent',
            name='event',
            field=models.CharField(choices=[('mfa_method_activated', 'method activated'), ('mfa_method_deactivated', 'method deactivated'), ('primary_method_changed', 'primary method changed'), ('code_sent', 'code sent'), ('code_verified', 'code verified'), ('verification_failed', 'verification failed'), ('backup_code_used', 'backup code used'), ('backup_codes_regenerated', 'backup codes regenerated'), ('locked_out', 'locked out'), ('dispatch_failed', 'queued code not sent'), ('device_remembered', 'device remembered'), ('device_used', 'remembered device skipped the code'), ('device_rejected', 'device token ignored'), ('devices_revoked', 'remembered devices revoked'), ('credential_added', 'security key added'), ('credential_removed', 'security key removed'), ('sign_count_regression', 'security key signature counter went back')], max_length=32, verbose_name='event'),
        ),
        migrations.CreateModel(
            name='WebAuthnChallenge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('activation', 'activation'), ('login', 'login'), ('action', 'protected action'), ('verification', 'identifier verification')], max_length=16)),
                ('login_challenge_id', models.BigIntegerField(blank=True, null=True)),
                ('challenge_digest', models.CharField(max_length=64, unique=True)),
                ('user_verification', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('used_at', models.DateTimeField(blank=True, null=True)),
                ('method', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='trench_mfa.mfamethod')),
            ],
            options={
                'verbose_name': 'WebAuthn challenge',
                'verbose_name_plural': 'WebAuthn challenges',
            },
        ),
        migrations.CreateModel(
            name='WebAuthnCredential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=255, verbose_name='name')),
                ('credential_id', models.TextField(editable=False, verbose_name='credential id')),
                ('credential_digest', models.CharField(editable=False, max_length=64, unique=True)),
                ('public_key', models.BinaryField()),
                ('sign_count', models.PositiveBigIntegerField(default=0, editable=False)),
                ('transports', models.JSONField(blank=True, default=list, verbose_name='transports')),
                ('backup_eligible', models.BooleanField(default=False, verbose_name='backup eligible')),
                ('backed_up', models.BooleanField(default=False, verbose_name='backed up')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used at')),
                ('method', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webauthn_credentials', to='trench_mfa.mfamethod', verbose_name='method')),
            ],
            options={
                'verbose_name': 'security key',
                'verbose_name_plural': 'security keys',
            },
        ),
    ]
