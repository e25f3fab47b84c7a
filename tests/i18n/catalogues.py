"""A small reader of gettext ``.po`` files and the checks the i18n tests apply.

Pure Python, so the completeness checks need no gettext binaries; only the
staleness test runs ``makemessages`` (GNU xgettext).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import trench_mfa

LOCALE_DIR = Path(trench_mfa.__file__).parent / "locale"
#: Every shipped catalogue; ``en`` is the source language (empty msgstrs).
LANGUAGES = ("en", "de", "pl", "es", "fr")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")

_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[(\d+)\])?) "(.*)"$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
#: ``%(name)s``, ``%d``, ``%s`` ... (``%%`` is a literal percent sign).
_PERCENT = re.compile(r"%(?:\((\w+)\))?[#0\- +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa%])")
_BRACE = re.compile(r"(?<!\{)\{(\w*)[^{}]*\}(?!\})")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


@dataclass
class Entry:
    """One message of a catalogue."""

    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    #: ``msgstr`` at index 0, or ``msgstr[n]`` at index n for a plural entry.
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        """What identifies the message: context, msgid and plural msgid."""
        return (self.msgctxt, self.msgid, self.msgid_plural)


def parse(text: str) -> list[Entry]:
    """The entries of a ``.po`` file, the header (empty msgid) included."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    seen = False

    def finish() -> None:
        nonlocal entry, target, seen
        if seen:
            entries.append(entry)
        entry, target, seen = Entry(), None, False

    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if line.startswith("|"):
                continue  # previous msgid of an obsolete fuzzy entry
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        elif line.startswith("#"):
            continue  # comments, references, previous msgids
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.groups()
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = _unquote(value)
            else:
                if keyword == "msgid" and seen and entry.msgstr:
                    finish()  # a missing blank line between two entries
                target = (keyword, 0)
                setattr(entry, keyword, _unquote(value))
            seen = True
        elif line.startswith('"') and target is not None:
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += _unquote(line[1:-1])
            else:
                setattr(entry, name, (getattr(entry, name) or "") + _unquote(line[1:-1]))
    return entries


def read(language: str) -> list[Entry]:
    """The entries of a shipped catalogue."""
    return parse((LOCALE_DIR / language / "LC_MESSAGES" / "django.po").read_text("utf-8"))


def messages(entries: list[Entry]) -> list[Entry]:
    """The live messages: no header, no obsolete entries."""
    return [e for e in entries if e.msgid and not e.obsolete]


def plural_count(entries: list[Entry]) -> int:
    """``nplurals`` of the catalogue's ``Plural-Forms`` header."""
    header = next(e for e in entries if not e.msgid).msgstr[0]
    match = re.search(r"nplurals\s*=\s*(\d+)", header)
    assert match, header
    return int(match.group(1))


def placeholders(text: str, flags: set[str]) -> tuple[list[str], ...]:
    """The format placeholders of ``text`` that Python fills in.

    ``python-format``: the sorted names of ``%(name)s`` and the conversions
    of positional ``%d``/``%s`` in order; ``python-brace-format``: the sorted
    ``{name}`` fields. A translation must use the same ones, or formatting
    it raises (a missing key, an extra positional) or drops a value.
    """
    named: list[str] = []
    positional: list[str] = []
    if "python-format" in flags:
        for name, conversion in _PERCENT.findall(text):
            if conversion == "%":
                continue
            (named if name else positional).append(name or conversion)
    braces = sorted(_BRACE.findall(text)) if "python-brace-format" in flags else []
    return sorted(named), positional, braces


def problems(entries: list[Entry]) -> list[str]:
    """Why a translated catalogue is not fit to ship (empty when it is)."""
    found: list[str] = []
    nplurals = plural_count(entries)
    for entry in entries:
        if not entry.msgid:
            continue
        label = repr(entry.msgid)
        if entry.obsolete:
            found.append(f"obsolete entry {label} (run `make messages`)")
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {label}")
        expected = range(nplurals) if entry.msgid_plural is not None else range(1)
        if sorted(entry.msgstr) != list(expected):
            found.append(f"{label} has msgstr forms {sorted(entry.msgstr)}, not {list(expected)}")
        for index, text in sorted(entry.msgstr.items()):
            if not text:
                found.append(f"untranslated: {label} (form {index})")
                continue
            # The singular form of a plural entry is checked against the
            # plural msgid too: ``%d`` is in both, and Python fills in either.
            source = entry.msgid if entry.msgid_plural is None else entry.msgid_plural
            if placeholders(text, entry.flags) != placeholders(source, entry.flags):
                found.append(f"placeholders differ: {label} -> {text!r}")
    return found
