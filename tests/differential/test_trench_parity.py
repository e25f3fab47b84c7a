"""A django-trench client sees the same answers from trench_mfa.

The same scripted requests (``scenarios.py``: every endpoint of the three
includes, with missing, blank, malformed, wrong and expired codes, unknown and
inactive methods, primary deactivation, disabled regeneration, bad and reused
tokens) run against a django-trench 0.3.1 site in its own virtualenv and a
trench_mfa site configured the way a switching project would be. Status and
body must be equal, secrets aside, except for fields trench_mfa adds. Every
case that still differs must be listed in ``docs/migrating.rst`` ("Every
difference on the wire"), and every case listed there must still differ.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MIGRATING = REPO / "docs" / "migrating.rst"
VARIANTS = ("default", "no-confirm", "no-regeneration")
#: Fields trench_mfa adds to django-trench's bodies (API.md: additive fields
#: are allowed). Everything else must be equal.
ADDED_FIELDS = {
    "error_code",
    "retry_after",
    "other_methods",
    "factors_remaining",
    "qr_code",
    "confirm_activation_with_code",
}

pytestmark = pytest.mark.differential


def play(python: Path | str, package: str, variant: str) -> dict[str, dict[str, Any]]:
    """Every labelled case of ``variant`` as ``package`` answers it."""
    result = subprocess.run(  # noqa: S603 - our own driver, our own interpreters
        [str(python), "driver.py", package, variant],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{package} driver failed:\n{result.stderr[-3000:]}"
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {f"{variant}: {line['case']}": line for line in lines}


def comparable(answer: dict[str, Any]) -> tuple[int, Any]:
    """Status and body without the fields trench_mfa adds."""
    body = answer["body"]
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in ADDED_FIELDS}
    return answer["status"], body


def documented_differences() -> set[str]:
    """The cases listed in migrating.rst's table "Every difference on the wire"."""
    text = MIGRATING.read_text()
    table = text[text.index("Every difference on the wire") :]
    variants = "|".join(VARIANTS)
    return set(re.findall(rf"^\s+\* - ``((?:{variants}): .+?)``\s*$", table, flags=re.M))


@pytest.fixture(scope="module")
def answers(trench_python: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(django-trench's answer, trench_mfa's answer) of every case."""
    both: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for variant in VARIANTS:
        theirs = play(trench_python, "trench", variant)
        ours = play(sys.executable, "mfa", variant)
        assert list(theirs) == list(ours), "both drivers must play the same cases"
        both.update({case: (theirs[case], ours[case]) for case in theirs})
    return both


def test_the_script_covers_every_endpoint(answers: dict[str, Any]) -> None:
    """Each django-trench endpoint is exercised, with failures and successes."""
    statuses: dict[str, set[int]] = {}
    for case, (theirs, _ours) in answers.items():
        statuses.setdefault(case.split(":")[1].strip(), set()).add(theirs["status"])
    assert len(answers) >= 120
    assert {200, 204, 400, 401} <= {s for found in statuses.values() for s in found}


def test_answers_match_except_the_documented_differences(
    answers: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Equal status and body, or the case is a documented deliberate difference."""
    differing = {
        case for case, (theirs, ours) in answers.items() if comparable(theirs) != comparable(ours)
    }
    documented = documented_differences()
    undocumented = {
        case: {"django-trench": answers[case][0], "trench_mfa": answers[case][1]}
        for case in sorted(differing - documented)
    }
    assert not undocumented, "differences not in docs/migrating.rst:\n" + json.dumps(
        undocumented, indent=1, sort_keys=True
    )
    assert not documented - differing, "listed as different but equal now (or renamed)"


def test_error_codes_stay_available_in_the_django_trench_shape(
    answers: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Where django-trench answers ``{"error"}``, trench_mfa adds the ``error_code``."""
    envelopes = [ours for _theirs, ours in answers.values() if isinstance(ours["body"], dict)]
    with_error = [answer["body"] for answer in envelopes if "error" in answer["body"]]
    assert with_error
    assert all(isinstance(body.get("error_code"), str) for body in with_error)
