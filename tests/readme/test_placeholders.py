"""The README's and the docs' examples show placeholders, never a code a reader would paste.

A reader copies request examples as printed: a code-like value there
(``"code": "123456"``, a 40-character token) is a value that fails, while
``<code from the console>`` says what to put in. This scans README.rst and
docs/**/*.rst for such values.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.REPO_ROOT)
#: A one-time code, backup code or token given as a literal in a request.
_PASTABLE = [
    re.compile(r'"(?:code|ephemeral_token|auth_token|refresh|access)":\s*"[0-9a-z.:_-]{6,}"'),
    re.compile(r"(?:Token|Bearer) [0-9a-zA-Z._-]{20,}"),
    # A bare number printed as a command's output (a TOTP code).
    re.compile(r"^\s+[0-9]{6,8}\s*$"),
]


def _pages() -> list[Path]:
    return [ROOT / "README.rst", *sorted((ROOT / "docs").glob("**/*.rst"))]


def pastable_values(text: str) -> list[str]:
    """Every code-like literal of ``text`` a reader might paste."""
    return [
        match.group(0).strip()
        for line in text.splitlines()
        for pattern in _PASTABLE
        for match in pattern.finditer(line)
    ]


def test_the_scan_catches_the_values_a_reader_would_paste() -> None:
    text = (
        """   -d '{"code": "123456"}'\n   -H "Authorization: Token """
        + "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
        + '"\n   492039\n   -d \'{"code": "<code from the console>"}\'\n'
    )
    assert len(pastable_values(text)) == 3


def test_no_page_shows_a_pastable_code_or_token() -> None:
    pages = _pages()
    assert len(pages) > 5
    found = {
        str(page.relative_to(ROOT)): values
        for page in pages
        if (values := pastable_values(page.read_text(encoding="utf-8")))
    }
    assert found == {}
