#!/usr/bin/env python
"""Django's command-line utility for the demo project.

Run it from the repository root: ``python testproject/manage.py <command>``.
"""

import os
import sys
from pathlib import Path


def main() -> None:
    # Make ``testproject`` and ``trench_mfa`` importable without installing.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
