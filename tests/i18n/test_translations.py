"""Answers follow the client's Accept-Language; every catalogue is complete."""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

import trench_mfa

LOCALE_DIR = Path(trench_mfa.__file__).parent / "locale"

UNKNOWN_METHOD = {
    "en": "Requested MFA method does not exist.",
    "de": "Die angeforderte MFA-Methode existiert nicht.",
    "pl": "Wybrana metoda MFA nie istnieje.",
    "es": "El método MFA solicitado no existe.",
    "fr": "La méthode MFA demandée n'existe pas.",
}


@pytest.mark.parametrize(("language", "message"), UNKNOWN_METHOD.items())
def test_error_message_in_the_requested_language(
    api_client: APIClient, language: str, message: str
) -> None:
    response = api_client.post("/auth/nope/activate/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert response.json() == {"error": message, "error_code": "mfa_method_does_not_exist"}


def test_german_login_error(user: Any, anon_client: APIClient) -> None:
    response = anon_client.post(
        "/auth/token/login/",
        {user.USERNAME_FIELD: user.get_username(), "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.json()["error"] == "Anmeldung mit den angegebenen Zugangsdaten nicht möglich."


def _po_entries(text: str) -> dict[str, str]:
    """Singular msgid -> msgstr of a .po file (continuation lines joined)."""
    entries = {}
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgstr|msgid_plural|msgstr\[\d\]) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid") and "msgstr" in fields:
            entries[fields["msgid"].replace('\\"', '"')] = fields["msgstr"].replace('\\"', '"')
    return entries


@pytest.mark.parametrize("language", ["de", "pl", "es", "fr"])
def test_catalogue_is_compiled_and_complete(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    source = (folder / "django.po").read_text()
    assert "#, fuzzy" not in source
    entries = _po_entries(source)
    assert len(entries) > 50
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # The compiled catalogue says what the source says: it is not stale.
    assert {m: compiled.gettext(m) for m in entries} == entries
