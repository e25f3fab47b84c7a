#!/usr/bin/env python
"""Django's command-line utility for the demo project.

Run it from the repository root: ``python testproject/manage.py <command>``.

It runs under the demo's settings (``testproject.settings_flows``, what
``make run`` serves) unless ``DJANGO_SETTINGS_MODULE`` or ``--settings`` names
others. ``create_demo_user`` always runs under the demo's settings (unless
``--settings`` is given): the demo user lives in the demo's database, with
the demo's user model and login flows, so a ``DJANGO_SETTINGS_MODULE`` left
over from a test run must not decide what it creates.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The settings ``make run`` serves.
DEMO_SETTINGS = "testproject.settings_flows"
#: Commands that set up the demo's own data.
DEMO_COMMANDS = frozenset({"create_demo_user"})


def settings_module(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The settings module a command line runs under (``--settings`` still wins)."""
    if len(argv) > 1 and argv[1] in DEMO_COMMANDS:
        return DEMO_SETTINGS
    return environ.get("DJANGO_SETTINGS_MODULE") or DEMO_SETTINGS


def main() -> None:
    """Run a management command of the demo project."""
    # Make ``testproject`` and ``trench_mfa`` importable without installing.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module(sys.argv, os.environ)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
