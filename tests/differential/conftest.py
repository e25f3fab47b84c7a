"""django-trench 0.3.1 in its own virtualenv, for the side-by-side tests.

The environment is the one ``make bench`` uses (``bench/.venv-trench``, built
once and reused while its requirements are unchanged). Building it needs the
package index; where it cannot be built the tests are skipped, saying why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.harness.envs import TRENCH, ensure


@pytest.fixture(scope="session")
def trench_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtualenv with django-trench 0.3.1 installed."""
    log = tmp_path_factory.mktemp("trench-venv") / "pip.log"
    building = ensure(TRENCH, log)
    if building is not None and building.wait(timeout=900) != 0:
        tail = log.read_text(errors="replace")[-1500:]
        pytest.skip(
            f"django-trench 0.3.1 could not be installed into {TRENCH.venv.name} "
            f"(pip failed; is the package index reachable?):\n{tail}"
        )
    if not os.access(TRENCH.python, os.X_OK):
        pytest.skip(f"no interpreter at {TRENCH.python}")
    return TRENCH.python
