"""The two virtual environments, created once and reused while unchanged.

``bench/.venv-mfa`` has this checkout installed (editable, all extras, and
the ``bench`` dependency group of pyproject.toml); ``bench/.venv-trench``
has django-trench 0.3.1 with the versions it runs with (newer pyotp breaks
it). Both get gunicorn, psycopg and pyinstrument.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
SERVER_DEPS = ["gunicorn>=22", "psycopg[binary]>=3.1"]
#: For ``make bench-profile`` (bench/profile.py), in both environments.
PROFILE_DEPS = ["pyinstrument>=4.6"]


@dataclass(frozen=True)
class Env:
    """One package under test: its virtualenv, site and requirements."""

    key: str
    label: str
    venv: Path
    site: str
    requirements: tuple[str, ...]

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.venv / "bin" / "python"

    @property
    def site_dir(self) -> Path:
        """The Django project of this package."""
        return BENCH / "projects" / self.site

    @property
    def manage(self) -> list[str]:
        """``python manage.py`` of the site, as an argv prefix."""
        return [str(self.python), str(self.site_dir / "manage.py")]


MFA = Env(
    "mfa",
    "trench_mfa",
    BENCH / ".venv-mfa",
    "mfa_site",
    # The bench group (pyproject.toml [dependency-groups]); ensure() upgrades pip first.
    ("-e", str(REPO), "--group", f"{REPO}/pyproject.toml:bench", *PROFILE_DEPS),
)
TRENCH = Env(
    "trench",
    "django-trench 0.3.1",
    BENCH / ".venv-trench",
    "trench_site",
    (
        "django-trench==0.3.1",
        "Django>=4.2,<5.0",
        "djangorestframework>=3.17,<3.18",
        "djangorestframework-simplejwt>=5.5,<5.6",
        "djoser>=2.3,<2.4",
        "pyotp>=2.10,<2.11",
        # The side-by-side API test (tests/differential) freezes the clock.
        "time-machine>=2.13",
        *SERVER_DEPS,
        *PROFILE_DEPS,
    ),
)
ENVS = (MFA, TRENCH)


def _stamp_value(env: Env) -> str:
    spec = json.dumps([sys.version_info[:2], env.requirements])
    if env is MFA:
        # Re-install when the package's dependencies change.
        spec += (REPO / "pyproject.toml").read_text()
    return hashlib.sha256(spec.encode()).hexdigest()


def ensure(env: Env, log: Path) -> subprocess.Popen[bytes] | None:
    """Start (re)building ``env`` when needed; the caller waits on the process."""
    stamp = env.venv / ".bench-stamp"
    wanted = _stamp_value(env)
    if env.python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return None
    script = (
        f"set -e; {sys.executable} -m venv {env.venv}; "
        f"{env.python} -m pip install -q --disable-pip-version-check --upgrade pip; "
        f"{env.python} -m pip install -q --disable-pip-version-check "
        + " ".join(f"'{r}'" for r in env.requirements)
        + f"; printf %s {wanted} > {stamp}"
    )
    # The child writes the log through its own copy of the descriptor; ours
    # is closed at once (a handle left open is a ResourceWarning).
    with log.open("wb") as handle:
        return subprocess.Popen(  # noqa: S603 - our own argv
            ["bash", "-c", script],  # noqa: S607 - bash from PATH, as make does
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def versions(env: Env) -> dict[str, str]:
    """Installed versions of the packages that matter, read inside the venv."""
    names = [
        "django",
        "djangorestframework",
        "djangorestframework-simplejwt",
        "pyotp",
        "gunicorn",
        "psycopg",
        "trench-mfa",
        "django-trench",
    ]
    code = (
        "import json, sys, importlib.metadata as m\n"
        "out = {'python': sys.version.split()[0]}\n"
        f"for n in {names!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    # -I: isolated, so a checkout's *.egg-info in the current directory is
    # not mistaken for an installed distribution.
    result = subprocess.run(  # noqa: S603 - our own argv
        [str(env.python), "-I", "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)
