"""Answers follow the client's Accept-Language; every catalogue is complete and current.

``make messages`` refreshes the catalogues from the source and compiles them;
the tests below fail until every new or changed message is translated.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.i18n.catalogues import (
    LANGUAGES,
    LOCALE_DIR,
    TRANSLATED,
    Entry,
    messages,
    parse,
    problems,
    read,
)

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


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_complete(language: str) -> None:
    """No message is untranslated, fuzzy or obsolete, and placeholders match."""
    entries = read(language)
    assert len(messages(entries)) > 100
    assert problems(entries) == []


def test_completeness_check_finds_what_is_missing() -> None:
    """The check itself: an empty form, a fuzzy entry, a lost placeholder, an obsolete one."""
    header = 'msgid ""\nmsgstr "Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    source = header + (
        '#, python-format\nmsgid "%d apple"\nmsgid_plural "%d apples"\n'
        'msgstr[0] "%d Apfel"\nmsgstr[1] ""\n\n'
        '#, fuzzy\n#| msgid "Pear"\nmsgid "Pears"\nmsgstr "Birne"\n\n'
        '#, python-brace-format\nmsgid "Hi {name}"\nmsgstr "Hallo {nom}"\n\n'
        '#~ msgid "Old"\n#~ msgstr "Alt"\n'
    )
    found = problems(parse(source))
    assert found == [
        "untranslated: '%d apple' (form 1)",
        "fuzzy: 'Pears'",
        "placeholders differ: 'Hi {name}' -> 'Hallo {nom}'",
        "obsolete entry 'Old' (run `make messages`)",
    ]


def _mo_key(entry: Entry, index: int) -> Any:
    msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
    return msgid if entry.msgid_plural is None else (msgid, index)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    """The committed .mo holds exactly the translated messages of the .po."""
    expected = {
        _mo_key(entry, index): text
        for entry in messages(read(language))
        if "fuzzy" not in entry.flags
        for index, text in entry.msgstr.items()
        if text
    }
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert catalog == expected


def _extract(tmp_path: Path) -> set[tuple[str | None, str, str | None]]:
    """The message keys ``makemessages`` finds in trench_mfa's source now."""
    copy = tmp_path / "trench_mfa"
    shutil.copytree(
        LOCALE_DIR.parent, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.pyc")
    )
    (copy / "locale").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    # The same options as `make messages`, which runs in the package too.
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "de", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    extracted = parse((copy / "locale" / "de" / "LC_MESSAGES" / "django.po").read_text("utf-8"))
    return {entry.key for entry in messages(extracted)}


def test_catalogues_match_the_source(tmp_path: Path) -> None:
    """Every catalogue holds exactly the messages of the source: none missing, none stale."""
    if shutil.which("xgettext") is None and not os.environ.get("CI"):
        pytest.skip("GNU gettext (xgettext) is not installed; CI runs this test")
    source = _extract(tmp_path)
    assert len(source) > 100
    for language in LANGUAGES:
        shipped = {entry.key for entry in messages(read(language))}
        assert {
            "missing (run `make messages`)": sorted(map(str, source - shipped)),
            "no longer in the source": sorted(map(str, shipped - source)),
        } == {"missing (run `make messages`)": [], "no longer in the source": []}, language
