"""Sphinx configuration for the trench_mfa documentation (no autodoc)."""

import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))


def _read_version() -> str:
    init = REPO_ROOT / "trench_mfa" / "__init__.py"
    if init.exists():
        match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init.read_text(), re.M)
        if match:
            return match.group(1)
    return "0.1.0"


project = "trench_mfa"
author = "trench_mfa developers"
copyright = "2026, trench_mfa developers"
release = _read_version()
version = ".".join(release.split(".")[:2])

# openapi_reference writes api-reference.rst from the live OpenAPI schema.
extensions: list[str] = ["openapi_reference"]
templates_path: list[str] = []
exclude_patterns = ["_build", "_fragments"]

html_theme = "furo"
html_title = f"trench_mfa {release}"
