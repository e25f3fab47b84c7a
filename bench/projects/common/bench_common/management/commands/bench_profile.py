"""``manage.py bench_profile --logins N --out FILE``: where a login spends its time.

Seeds a fresh database like the in-process worker, warms up, then records
N full two-step logins (JWT, TOTP) and N step-2 answers with a wrong backup
code under pyinstrument, and writes both call trees as text to FILE. The
same command runs in both sites, so the two trees can be read side by side.
Set-up between the recorded calls (fresh tokens, the replay-guard reset)
is recorded too but stands apart in the tree (``reset_state``, ``step1``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from pyinstrument import Profiler

from bench_common.flows import WRONG_BACKUP_CODE, Api, Seed, adapter, fresh_site

MAX_LOGINS = 2_000
WARM_UP = 20
#: The checkout, cut from the paths in the output (no machine paths in the
#: committed results).
REPO = Path(__file__).resolve().parents[6]
#: Frames shown although installed as libraries: both packages' own code and
#: the JWT it issues (the rest of Django and DRF is folded, as pyinstrument
#: does by default).
SHOWN = r".*/(trench|trench_mfa|rest_framework_simplejwt)/.*"


def _login(api: Api, seed: Seed) -> None:
    adapter().reset_state()
    token = api.ephemeral_token(seed)
    api.step2(token, seed.totp())


def _wrong_backup(api: Api, seed: Seed) -> None:
    adapter().reset_state()
    token = api.ephemeral_token(seed)
    api.step2(token, WRONG_BACKUP_CODE)


class Command(BaseCommand):
    """Profile full logins and wrong backup codes; write the call trees."""

    help = "Profile login steps with pyinstrument (driven by bench/profile.py)."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--logins`` (per scenario) and ``--out`` (text file)."""
        parser.add_argument("--logins", type=int, default=300)
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed, warm up, record, write."""
        seed, api = fresh_site()
        n = max(1, min(int(options["logins"]), MAX_LOGINS))
        sections = []
        for title, one in (("full login", _login), ("step 2, wrong backup code", _wrong_backup)):
            for _ in range(WARM_UP):
                one(api, seed)
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(n):
                one(api, seed)
            profiler.stop()
            tree = profiler.output_text(
                unicode=False,
                color=False,
                processor_options={"show_regex": SHOWN, "filter_threshold": 0.01},
            )
            tree = tree.replace(f"{REPO}/", "")
            sections.append(f"## {title} x {n} (seconds are totals over all {n})\n\n{tree}")
        Path(options["out"]).write_text("\n".join(sections), encoding="utf-8")
