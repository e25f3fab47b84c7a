"""A runnable demo project for trench_mfa (SQLite by default)."""

# Load the Celery app with Django, so shared tasks bind to it; Celery is an
# optional extra, and the demo runs without it.
try:
    from testproject.celery_app import app as celery_app
except ImportError:  # pragma: no cover - celery not installed
    celery_app = None

__all__ = ["celery_app"]
