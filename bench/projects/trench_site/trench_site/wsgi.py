"""WSGI entry point of the trench_site benchmark site (served by gunicorn)."""

import os
import sys
from pathlib import Path

_SITE_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_SITE_ROOT), str(_SITE_ROOT.parent / "common")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trench_site.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
