"""The demo project's Celery app, for ``TRENCH_AUTH["DISPATCH"] = "celery"``.

Configured from the Django settings (keys starting with ``CELERY_``); run a
worker from the repository root with ``celery -A testproject.celery_app
worker -l info`` (docs/async.rst). Not named ``celery.py``: ``manage.py``
puts this directory on ``sys.path``, where such a module would shadow the
real ``celery`` package.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")

app = Celery("testproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds trench_mfa.tasks (the task trench_mfa.send_code).
app.autodiscover_tasks()
