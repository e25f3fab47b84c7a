"""Shared base of trench_mfa's management commands: translated help."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext


class MFACommand(BaseCommand):
    """A command whose ``help`` is marked with ``gettext_noop``.

    The text is translated when the parser is built, in the language active
    then (``LANGUAGE_CODE`` under ``manage.py``): argparse needs a real
    ``str`` for the description, so a lazy translation would not do.
    """

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Translate ``help``, then build the parser as usual."""
        if self.help:  # gettext("") would answer the catalogue's header
            self.help = gettext(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
