"""Scenarios 1-3 in-process (SQLite, Django's test client), packages alternating.

Each round asks worker A then worker B for the same operation; a round's
value is the median of its samples, and a figure is the median (min, max)
over rounds.
"""

from __future__ import annotations

from typing import Any

from harness.plan import Plan
from harness.stats import Figure, round_median
from harness.workers import Worker

Pair = tuple[Worker, Worker]


def _rounds(
    pair: Pair, rounds: int, ops: dict[str, dict[str, int]], budget: float
) -> dict[str, dict[str, list[float]]]:
    """Per round: for each op, worker A then worker B. Per op and worker: ms per round."""
    values: dict[str, dict[str, list[float]]] = {op: {w.env.key: [] for w in pair} for op in ops}
    for _ in range(rounds):
        for op, counts in ops.items():
            for worker in pair:
                answer = worker.ask(
                    op, n=counts[worker.env.key], budget=budget, timeout=budget * 4 + 300
                )
                values[op][worker.env.key].append(round_median(answer["samples"]) * 1000)
    return values


def _figures(values: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    return {op: {key: Figure.of(v) for key, v in per.items()} for op, per in values.items()}


def _logins(pair: Pair, rounds: int, logins: int, passwords: int, budget: float) -> dict[str, Any]:
    """Full logins and password checks in the same rounds.

    ``own_ratio`` is login / password check per round, so both halves of
    each ratio were measured under the same machine load.
    """
    values = _rounds(
        pair,
        rounds,
        {
            "login": {w.env.key: logins for w in pair},
            "password": {w.env.key: passwords for w in pair},
        },
        budget,
    )
    out = _figures(values)
    out["own_ratio"] = {
        key: Figure.of(
            [a / b for a, b in zip(values["login"][key], values["password"][key], strict=True)]
        )
        for key in values["login"]
    }
    return out


def login_md5(pair: Pair, plan: Plan) -> dict[str, Any]:
    """Full login and the plain password check, MD5 hasher."""
    return _logins(pair, plan.md5_rounds, plan.md5_logins, plan.md5_logins, plan.round_budget)


def login_default(pair: Pair, plan: Plan) -> dict[str, Any]:
    """Full login and the plain password check, the default hasher (slow)."""
    return _logins(pair, plan.slow_rounds, plan.slow_logins, plan.slow_passwords, plan.round_budget)


def backup_codes(pair: Pair, plan: Plan) -> dict[str, Any]:
    """Step 2 with a wrong and with a right backup code, default hasher.

    The per-round count is large for a cheap operation and small for an
    expensive one; the time budget stops a round either way.
    """
    ops = {
        "backup_wrong": {w.env.key: 20 for w in pair},
        "backup_right": {w.env.key: 2 for w in pair},
    }
    return _figures(_rounds(pair, plan.backup_rounds, ops, plan.round_budget))


def passkey_step2(pair: Pair, plan: Plan) -> dict[str, Any]:
    """trench_mfa's login step 2 with a TOTP code and with a passkey, MD5 hasher.

    Only trench_mfa's worker answers (django-trench has no WebAuthn); the two
    operations take turns in every round.
    """
    mfa = next(w for w in pair if w.env.key == "mfa")
    ops = {"step2_totp": plan.md5_logins, "step2_passkey": plan.md5_logins}
    values: dict[str, list[float]] = {op: [] for op in ops}
    for _ in range(plan.md5_rounds):
        for op, n in ops.items():
            answer = mfa.ask(op, n=n, budget=plan.round_budget, timeout=plan.round_budget * 4 + 300)
            values[op].append(round_median(answer["samples"]) * 1000)
    return {op: Figure.of(v) for op, v in values.items()}


def queries(pair: Pair) -> dict[str, list[dict[str, Any]]]:
    """Query counts per endpoint of each package (deterministic: one run)."""
    return {w.env.key: w.ask("queries", timeout=300)["rows"] for w in pair}
