#!/usr/bin/env python
"""Management entry point of the trench_site benchmark site."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    HERE = Path(__file__).resolve().parent
    sys.path[:0] = [str(HERE), str(HERE.parent / "common")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trench_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
