"""README's "Install in your project" works as printed, in a project of its own.

The code blocks of that section (each marked by a ``.. readme-test: NAME``
comment) are read from README.rst at test time, never copied here: a fresh
``django-admin startproject`` gets the ``settings.py`` blocks appended to
its settings and the ``urls.py`` blocks to its URLs, then the section's
``$ python manage.py ...`` commands run as printed (migrate, create the
user). ``walkthrough.py`` then walks activate, confirm, login and code with
Django's test client under the project's own settings, reading the codes
from what the README's ``EMAIL_BACKEND`` prints, and logs in with a wrong
password until the README's login rate answers 429. The minimal setup runs
with simplejwt made unimportable (it needs no extra); the ``-jwt`` blocks
add the JWT login.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

README = Path(settings.REPO_ROOT) / "README.rst"
SECTION = "Install in your project"
DRIVER = Path(__file__).with_name("walkthrough.py")
_MARKER = re.compile(r"^\.\. readme-test: (\S+)$")

pytestmark = pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "accounts.User",
    reason="one leg is enough: the project built here has its own settings and user model",
)


def section(text: str, title: str) -> str:
    """The body of the section ``title`` (up to the next title of its level or above)."""
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines[:-1]) if line == title and set(lines[i + 1]) == {"-"}
    )
    body = []
    for i in range(start + 2, len(lines)):
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if lines[i] and len(set(underline)) == 1 and underline[0] in "-=" and len(underline) >= 3:
            break
        body.append(lines[i])
    return "\n".join(body)


def code_blocks(text: str) -> dict[str, list[str]]:
    """Each ``.. readme-test: NAME`` comment's following code block, by NAME, in order."""
    blocks: dict[str, list[str]] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        marker = _MARKER.match(lines[i])
        i += 1
        if not marker:
            continue
        assert lines[i].startswith(".. code-block::"), f"no code block after {marker.group(0)}"
        i += 1
        block = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
            block.append(lines[i])
            i += 1
        blocks.setdefault(marker.group(1), []).append(textwrap.dedent("\n".join(block)).strip())
    return blocks


@pytest.fixture(scope="module")
def install_blocks() -> dict[str, list[str]]:
    """The marked code blocks of README's install section."""
    return code_blocks(section(README.read_text(encoding="utf-8"), SECTION))


def test_the_section_has_every_block_the_project_needs(
    install_blocks: dict[str, list[str]],
) -> None:
    assert set(install_blocks) == {
        "shell",
        "settings.py",
        "urls.py",
        "shell-jwt",
        "settings.py-jwt",
        "urls.py-jwt",
    }
    settings_block = "\n".join(install_blocks["settings.py"])
    for needed in (
        "DEFAULT_AUTHENTICATION_CLASSES",
        "trench_mfa_login",
        "trench_mfa_send",
        "EMAIL_BACKEND",
        "MAILERS",
    ):
        assert needed in settings_block, needed
    # The minimal setup needs no extra; the JWT one names the jwt extra.
    assert commands(install_blocks["shell"])[0] == ["pip", "install", "trench-mfa"]
    assert commands(install_blocks["shell-jwt"]) == [["pip", "install", "trench-mfa[jwt]"]]


def test_the_parser_finds_no_block_outside_the_section() -> None:
    text = "Intro\n-----\n\n.. readme-test: early\n.. code-block:: python\n\n   x = 1\n"
    text += "\nInstall in your project\n-----------------------\n\n.. readme-test: mine\n"
    text += ".. code-block:: console\n\n   $ echo hi\n\nNext\n----\n\n.. readme-test: late\n"
    text += ".. code-block:: python\n\n   y = 2\n"
    assert code_blocks(section(text, SECTION)) == {"mine": ["$ echo hi"]}


def commands(blocks: list[str]) -> list[list[str]]:
    """The ``$ ...`` command lines of console blocks, split as a shell would."""
    return [
        shlex.split(line[2:]) for block in blocks for line in block.splitlines() if line[:2] == "$ "
    ]


def _env() -> dict[str, str]:
    # Nothing of this suite's configuration may leak into the README's project.
    drop = {"DJANGO_SETTINGS_MODULE", "TEST_DATABASE_URL", "DATABASE_URL", "REDIS_URL"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def _run(argv: list[str], cwd: Path, **extra: str) -> str:
    done = subprocess.run(  # noqa: S603 - commands from our own README
        argv,
        cwd=cwd,
        env={**_env(), **extra},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return done.stdout + done.stderr


def build_project(tmp_path: Path, blocks: dict[str, list[str]], suffix: str) -> Path:
    """startproject, the README's settings and URLs appended, its commands run."""
    _run([sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)], tmp_path)
    for name in ("settings.py", "urls.py"):
        target = tmp_path / "mysite" / name
        appended = blocks[name] + blocks.get(f"{name}{suffix}", []) if suffix else blocks[name]
        target.write_text(target.read_text() + "\n\n" + "\n\n".join(appended) + "\n")
    for argv in commands(blocks["shell"]):
        if argv[:2] == ["pip", "install"] or "runserver" in argv:
            continue  # installed already; the driver stands in for the server
        assert argv[:2] == ["python", "manage.py"], argv
        _run([sys.executable, *argv[1:]], tmp_path)
    return tmp_path


def walk(project: Path, flavour: str) -> list[dict[str, Any]]:
    """Run walkthrough.py in ``project``; its steps, in order."""
    out = _run(
        [sys.executable, str(DRIVER), flavour], project, DJANGO_SETTINGS_MODULE="mysite.settings"
    )
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"step"')]


def _check_walk(steps: list[dict[str, Any]], token_keys: set[str]) -> None:
    by_step = {step["step"]: step for step in steps}
    assert by_step["login without MFA"]["status"] == 200
    assert set(by_step["login without MFA"]["body"]) == token_keys
    assert by_step["activate"]["status"] == 200
    assert by_step["activate"]["body"] == {"details": "Email message with MFA code has been sent."}
    assert by_step["confirm"]["status"] == 200, by_step["confirm"]
    assert len(by_step["confirm"]["body"]["backup_codes"]) == 10
    assert by_step["login with MFA"]["status"] == 200
    assert set(by_step["login with MFA"]["body"]) == {
        "ephemeral_token",
        "method",
        "other_methods",
        "factors_remaining",
    }
    assert by_step["login with MFA"]["body"]["method"] == "email"
    assert by_step["code"]["status"] == 200, by_step["code"]
    assert set(by_step["code"]["body"]) == token_keys
    assert by_step["methods"] == {
        "step": "methods",
        "status": 200,
        "body": [{"name": "email", "is_primary": True}],
    }
    # The README's rate: 10 logins a minute per username (over a sliding
    # minute); two were made above. So the 9th wrong password is refused,
    # or a little later when the previous minute's logins have begun to
    # slide out during a slow run.
    wrong = [step for step in steps if step["step"] == "wrong password"]
    statuses = [step["status"] for step in wrong]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}, statuses
    assert 9 <= len(statuses) <= 19, statuses
    assert wrong[-1]["body"]["error_code"] == "throttled"


def test_the_minimal_setup_logs_in_with_an_emailed_code(
    tmp_path: Path, install_blocks: dict[str, list[str]]
) -> None:
    project = build_project(tmp_path, install_blocks, suffix="")
    checks = _run([sys.executable, "manage.py", "check"], project)
    # Only the two reminders the README explains (keys, a per-process cache).
    found = re.findall(r"\((\w+\.[EW]\d+)\)", checks)
    assert found == ["trench_mfa.W101", "trench_mfa.W142"], checks
    text = section(README.read_text(encoding="utf-8"), SECTION)
    assert all(f"``{check}``" in text for check in found)
    _check_walk(walk(project, "token"), {"auth_token"})


def test_the_jwt_setup_logs_in_with_an_emailed_code(
    tmp_path: Path, install_blocks: dict[str, list[str]]
) -> None:
    project = build_project(tmp_path, install_blocks, suffix="-jwt")
    _check_walk(walk(project, "jwt"), {"refresh", "access"})
