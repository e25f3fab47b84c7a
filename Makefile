# trench_mfa developer tasks (GNU make).
#
#   make run    demo server on http://127.0.0.1:8000 (SQLite)
#   make test   pytest on SQLite (default, email-only and UUID-keyed user models),
#               then on $TEST_DATABASE_URL when it is set
#               one user model only: DJANGO_SETTINGS_MODULE=testproject.settings_email_user
#               (or _uuid_user) .venv/bin/pytest
#   make lint   ruff + mypy
#   make docs   Sphinx HTML in docs/_build/html (warnings are errors)
#   make bench  trench_mfa vs django-trench 0.3.1 -> bench/results/latest.md
#   make bench-profile  where both packages' logins spend their time -> bench/results/profile-*.txt
#   make matrix the test suite on every Python x Django leg (nox)
#   make messages  refresh trench_mfa/locale/*/django.po from the source, then compile

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python testproject/manage.py
HOST_PORT := 127.0.0.1:8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv run test lint docs bench bench-profile matrix matrix-last messages clean distclean

help:
	@echo "make venv       create .venv: trench_mfa (editable) with all extras, the test/lint/docs/demo groups"
	@echo "make run        migrate SQLite, create the demo user, serve on http://$(HOST_PORT)/"
	@echo "make test       pytest on SQLite x 3 user models (default, email-only, UUID pk), then on TEST_DATABASE_URL if set"
	@echo "make lint       ruff check, ruff format --check, mypy trench_mfa"
	@echo "make docs       build the Sphinx docs into docs/_build/html"
	@echo "make bench      benchmark against django-trench 0.3.1 (BENCH_QUICK=1: smoke run)"
	@echo "make bench-profile  pyinstrument call trees of both packages' logins"
	@echo "make matrix     the suite on Python 3.11/Django 5.2, 3.12/6.0, 3.13/6.1 (matrix-last: only 3.13/6.1)"
	@echo "make messages   refresh trench_mfa/locale/*/django.po ($(LOCALES)) from the source, compile the .mo files"
	@echo "make clean      remove caches and build output (distclean: also .venv and db.sqlite3)"

venv: $(STAMP)

# Re-runs only when pyproject.toml changes; an existing .venv is reused.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e . --group test --group lint --group docs --group demo
	@touch $(STAMP)

# The demo runs testproject.settings_flows: the base settings plus login
# flows and identifier verification (README: 'Sign up and log in without a
# password'); DEMO_SETTINGS=testproject.settings serves django-trench's login only.
DEMO_SETTINGS ?= testproject.settings_flows
# DEMO_HOST_PORT: the address in the verification links the demo emails.
DEMO := env -u TEST_DATABASE_URL DJANGO_SETTINGS_MODULE=$(DEMO_SETTINGS) DEMO_HOST_PORT=$(HOST_PORT)
run: venv
	$(DEMO) $(MANAGE) migrate --noinput
	$(DEMO) $(MANAGE) create_demo_user --settings=$(DEMO_SETTINGS)
	@echo ""
	@echo "================================================================"
	@echo " trench_mfa demo on http://$(HOST_PORT)/"
	@echo "   start here: http://$(HOST_PORT)/ (links to everything below)"
	@echo "   log in as:  username 'demo', password 'demo-pass-2026'"
	@echo "   admin:      http://$(HOST_PORT)/admin/ as 'admin', password 'admin-pass-2026'"
	@echo "   email MFA codes are printed in THIS console (console email backend)"
	@echo "   walk-through: README.rst, section 'Try it with curl'"
	@echo "   passwordless: README.rst, section 'Sign up and log in without a password'"
	@echo "   Swagger UI:   http://$(HOST_PORT)/api/docs/ (works offline)"
	@echo "   passkeys:     http://localhost:$(lastword $(subst :, ,$(HOST_PORT)))/passkeys/ (WebAuthn needs localhost, not 127.0.0.1)"
	@echo "   start over:   .venv/bin/python testproject/manage.py create_demo_user --reset"
	@echo "   stop with Ctrl-C"
	@echo "================================================================"
	@echo ""
	$(DEMO) $(MANAGE) runserver $(HOST_PORT)

# Four legs in two parallel streams (tests/legs.sh): the whole suite on SQLite
# with the default user model, then the database-dependent tests on
# PostgreSQL (when TEST_DATABASE_URL is set); next to them the suite with the
# email-only and the UUID-keyed user models (without the `slow` statistics).
# One leg by hand: DJANGO_SETTINGS_MODULE=testproject.settings_email_user .venv/bin/pytest
test: venv
	@bash tests/legs.sh $(BIN) $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trench_mfa

docs: venv
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

# Own virtualenvs under bench/.venv-* (built once), PostgreSQL on 127.0.0.1
# (databases bench_mfa and bench_trench are dropped and re-created).
bench:
	$(PYTHON) bench/run.py

# Where a login spends its time, for both packages (bench/results/profile-*.txt).
bench-profile:
	$(PYTHON) bench/profile.py

# pyenv's interpreters (when pyenv is there) go on PATH so nox finds
# python3.12 and python3.13; elsewhere they must already be on PATH.
PYENV_PATHS := $(shell command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.12 3.13 2>/dev/null | tr ':' '\n' | sed 's|$$|/bin|' | paste -sd: -)
NOX := env PATH="$(if $(PYENV_PATHS),$(PYENV_PATHS):)$$PATH" $(BIN)/nox -f noxfile.py

matrix: venv
	$(NOX) -s tests

# The newest leg without the `slow` statistics and the side-by-side test with
# django-trench (whose virtualenv is Python 3.11's), which `make test` runs.
matrix-last: venv
	$(NOX) -s "tests(py3.13-dj6.1)" -- -m "not slow and not differential"

# Runs inside the package, so only trench_mfa's own strings are extracted
# (not tests/, testproject/ or docs/), and without DJANGO_SETTINGS_MODULE, so
# no project settings play a part. --no-location and --no-wrap keep the diff
# of a refresh small; --no-obsolete drops strings that left the source. New
# and changed entries come out empty or fuzzy: translate them (tests/i18n
# fails until every catalogue is complete), then run this again to compile
# the finished .po files. docs/translations.rst describes the procedure.
LOCALES := en de pl es fr
I18N := cd trench_mfa && env -u DJANGO_SETTINGS_MODULE ../$(BIN)/django-admin
messages: venv
	$(I18N) makemessages $(addprefix -l ,$(LOCALES)) --no-location --no-wrap --no-obsolete
	$(I18N) compilemessages

clean:
	rm -rf docs/_build build dist .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
	rm -rf *.egg-info
	find . \( -path ./$(VENV) -o -path './bench/.venv-*' \) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) db.sqlite3 bench/.venv-* bench/.scratch
