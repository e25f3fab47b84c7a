"""A JSON parser that answers 400 to any body Python's ``json`` cannot decode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class BoundedJSONParser(parsers.JSONParser):
    """DRF's ``JSONParser``, plus a 400 for bodies nested too deeply.

    ``json`` decodes recursively: ``[[[[…]]]]`` a hundred thousand levels deep
    raises ``RecursionError``, which DRF does not catch (a 500).
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Parse like DRF; a ``RecursionError`` becomes a ``ParseError``."""
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None
