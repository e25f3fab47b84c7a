"""trench_mfa: multi-factor authentication for Django REST Framework."""

__version__ = "0.1.0"
