"""Version matrix: each supported Python with the Django release it pairs with.

``make matrix`` runs every leg; ``make matrix-last`` the newest one (CI runs
it next to ``make test``, which is the first leg). Interpreters are found on
``PATH``; the Makefile puts pyenv's 3.12 and 3.13 there.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

#: (Python, Django) legs. Django 6.x needs Python 3.12 or newer.
MATRIX = [("3.11", "5.2"), ("3.12", "6.0"), ("3.13", "6.1")]


@nox.session
@nox.parametrize(("python", "django"), MATRIX, ids=[f"py{p}-dj{d}" for p, d in MATRIX])
def tests(session: nox.Session, django: str) -> None:
    """The whole suite on SQLite (and PostgreSQL when TEST_DATABASE_URL is set)."""
    major, minor = (int(part) for part in django.split("."))
    # The test group (pyproject.toml [dependency-groups]) needs pip >= 25.1.
    session.install("--upgrade", "pip>=25.1")
    session.install("-e", ".", "--group", "test", f"Django>={major}.{minor},<{major}.{minor + 1}")
    session.run("python", "-c", "import django; print('Django', django.get_version())")
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
