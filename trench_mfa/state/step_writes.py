"""The writes of one login answer, sent together at the end of its transaction.

A right code at login step 2 changes three rows, each decided by the locked
read that came before: the method row (failure counters reset, last use, the
TOTP replay guard), the challenge (used up) and the audit event. Sent one by
one through the ORM they cost more Python than the rest of the step and one
round trip each.

:class:`StepWrites` collects them while the answer is checked (the state
modules that own the rows write the statements: :mod:`~trench_mfa.state.backoff`,
:mod:`~trench_mfa.state.tokens`, :mod:`~trench_mfa.state.audit`), and
:meth:`StepWrites.flush` sends them before the transaction commits: on
PostgreSQL as one statement of data-modifying ``WITH`` clauses (one round
trip), elsewhere one statement each. Every write keeps its own condition
(the replay guard, the token's single use); when a write that must find its
row finds none, another request got there first, and :meth:`~StepWrites.flush`
raises :class:`~trench_mfa.exceptions.InvalidToken`, which rolls the whole
answer back.

Where rows are locked (PostgreSQL, and any database with ``SELECT ... FOR
UPDATE``) the read decided under the same locks, so the method row's guard
cannot fail at flush; only the challenge's can, when a parallel answer used
the token. On SQLite, which locks the whole database instead, a replayed
TOTP step that slipped past the read would also end as ``invalid_token``
(rolled back, nothing counted) rather than as a counted wrong code.

The statements are plain SQL, so they send no model signals: where a
project listens to ``MFAEvent``'s saves, :mod:`~trench_mfa.state.audit`
saves event rows through the ORM instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from trench_mfa.exceptions import InvalidToken


@dataclass(frozen=True)
class Write:
    """One ``UPDATE`` or ``INSERT`` with its parameters.

    ``must_match``: the statement is conditional and must change a row; none
    changed means a parallel request changed the state first.
    """

    sql: str
    params: list[Any] = field(repr=False)
    must_match: bool = True


def execute(using: str, write: Write) -> int:
    """Send ``write`` now; the number of rows it changed."""
    with connections[using].cursor() as cursor:
        cursor.execute(write.sql, write.params)
        return int(cursor.rowcount)


class StepWrites:
    """The writes of one answer, in the order they were decided.

    Create one inside the answer's ``transaction.atomic()`` block and call
    :meth:`flush` before the block ends (unless it raises: then nothing
    collected matters, the transaction rolls back). No two writes may change
    the same row: PostgreSQL applies only one change per row and statement.
    """

    def __init__(self, using: str) -> None:
        self.using = using
        self._writes: list[Write] = []

    def add(self, write: Write) -> None:
        """Collect ``write`` for :meth:`flush`."""
        self._writes.append(write)

    def flush(self) -> None:
        """Send what was collected; raise :class:`InvalidToken` when a condition failed."""
        writes, self._writes = self._writes, []
        if connections[self.using].vendor == "postgresql" and len(writes) > 1:
            counts = self._together(writes)
        else:
            counts = [execute(self.using, w) for w in writes]
        if any(w.must_match and n == 0 for w, n in zip(writes, counts, strict=True)):
            raise InvalidToken()

    def _together(self, writes: list[Write]) -> list[int]:
        """All ``writes`` in one PostgreSQL statement; the rows each one changed.

        Data-modifying ``WITH`` clauses run on one snapshot and all of them
        run, referenced or not; the rows here are of different tables, so
        none of them sees or hides another's change.
        """
        clauses = ", ".join(f"w{i} AS ({w.sql} RETURNING 1)" for i, w in enumerate(writes))
        # Only the statements of state modules and clause names are formatted in.
        counts = ", ".join(f"(SELECT count(*) FROM w{i})" for i in range(len(writes)))  # noqa: S608
        params = [p for w in writes for p in w.params]
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"WITH {clauses} SELECT {counts}", params)
            row = cursor.fetchone()
        assert row is not None
        return [int(n) for n in row]
