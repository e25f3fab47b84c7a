"""Login step 2's one read, as plain SQL: the challenge, its user, the locked method rows.

Step 2 needs, before it checks a code: the challenge behind the token, its
user, every method row of that user locked for update (the counters and the
TOTP replay guard are written under those locks) and the user's unused
backup code in the submitted code's bucket. The ORM can express this as one
queryset, but building and compiling that queryset (about 40 columns over
four tables) cost about ten times more than running it, on every request.

So the statement is written here once per database connection from the
models' metadata (table and column names, quoted by the backend), and run
with two parameters; the values it returns are converted with each field's
own public conversion (``from_db_value``, ``to_python``) and the rows are
built with ``Model.from_db``. The statement, for the default tables::

    SELECT m.*, u.*, c.*,
           (SELECT b.id        FROM trench_mfa_backupcode b
             WHERE b.user_id = m.user_id AND b.bucket = %s AND b.used_at IS NULL
             ORDER BY b.id LIMIT 1),         -- NULL unless the code is shaped
           (SELECT b.code_hash FROM ... the same ...)   -- like a backup code
      FROM trench_mfa_mfamethod m
      JOIN <user table> u ON u.<pk> = m.user_id
      JOIN trench_mfa_loginchallenge c ON c.user_id = u.<pk>
     WHERE c.id = %s
     ORDER BY m.id
     FOR NO KEY UPDATE OF m      -- PostgreSQL; FOR UPDATE where only that exists;
                                 -- nothing on SQLite, which locks the database

It is standard SQL and runs on SQLite, PostgreSQL and MySQL/MariaDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.transaction import TransactionManagementError

from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod
from trench_mfa.state.sql import column, concrete_fields, loaded, select_list


@dataclass(frozen=True)
class StepTwoRow:
    """The models read by one statement: the challenge, its user, their rows, a backup code."""

    challenge: LoginChallenge
    user: Any
    rows: list[MFAMethod]
    backup_pk: int | None
    backup_hash: str | None


def _lock_clause(alias: str) -> str:
    """The row-lock clause of ``alias``'s database for the method rows (``m``)."""
    features = connections[alias].features
    if not features.has_select_for_update:
        return ""  # SQLite: a write transaction locks the whole database
    if features.has_select_for_no_key_update and features.has_select_for_update_of:
        # Not FOR UPDATE: inserts referencing the rows (audit events, codes)
        # take key-share locks, which FOR UPDATE would block.
        return " FOR NO KEY UPDATE OF m"
    if features.has_select_for_update_of:
        return " FOR UPDATE OF m"
    return " FOR UPDATE"


def _statement(alias: str, with_backup: bool) -> str:
    """The read's SQL for ``alias``: identifiers from the models, values as parameters.

    ``with_backup``: with the two backup-code subqueries (whose planning
    costs more than the rest of the read), for a code shaped like a backup
    code; without them the columns are ``NULL``.
    """
    quote = connections[alias].ops.quote_name
    user_model = get_user_model()

    user_pk = quote(column(user_model))
    method_user = quote(column(MFAMethod, "user"))

    def backup_column(name: str) -> str:
        return f"b.{quote(column(BackupCode, name))}"

    backup = (
        f"FROM {quote(BackupCode._meta.db_table)} b"
        f" WHERE {backup_column('user')} = m.{method_user}"
        f" AND {backup_column('bucket')} = %s AND {backup_column('used_at')} IS NULL"
        f" ORDER BY {backup_column('id')} LIMIT 1"
    )
    selected = [
        *select_list(alias, MFAMethod, "m"),
        *select_list(alias, user_model, "u"),
        *select_list(alias, LoginChallenge, "c"),
        f"(SELECT {backup_column('id')} {backup})" if with_backup else "NULL",
        f"(SELECT {backup_column('code_hash')} {backup})" if with_backup else "NULL",
    ]
    # Only quoted identifiers from the models' metadata are formatted in;
    # the challenge id and the bucket are query parameters.
    return (
        f"SELECT {', '.join(selected)}"  # noqa: S608
        f" FROM {quote(MFAMethod._meta.db_table)} m"
        f" INNER JOIN {quote(user_model._meta.db_table)} u ON u.{user_pk} = m.{method_user}"
        f" INNER JOIN {quote(LoginChallenge._meta.db_table)} c"
        f" ON c.{quote(column(LoginChallenge, 'user'))} = u.{user_pk}"
        f" WHERE c.{quote(column(LoginChallenge))} = %s"
        f" ORDER BY m.{quote(column(MFAMethod))}" + _lock_clause(alias)
    )


#: Statements by (database alias, user model, with backup code): the models'
#: metadata is fixed once Django is set up, so a text never changes for a process.
_STATEMENTS: dict[tuple[str, str, bool], str] = {}


def read_step_two(challenge_id: int, bucket: str | None, *, using: str) -> StepTwoRow | None:
    """The challenge ``challenge_id`` with its user and locked rows; ``None`` without rows.

    Must run inside ``transaction.atomic()``: the row locks last until the
    transaction ends. ``bucket`` selects the backup code candidate (none is
    read without one).
    """
    connection = connections[using]
    if connection.get_autocommit():
        raise TransactionManagementError("the step-2 read must run inside atomic()")
    user_model = get_user_model()
    key = (using, user_model._meta.label, bucket is not None)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = _statement(using, bucket is not None)
    params: list[str | int] = [challenge_id]
    if bucket is not None:
        params = [bucket, bucket, challenge_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if not fetched:
        return None
    n_method, n_user = len(concrete_fields(MFAMethod)), len(concrete_fields(user_model))
    first = fetched[0]
    user = loaded(using, user_model, first[n_method : n_method + n_user])
    challenge = loaded(using, LoginChallenge, first[n_method + n_user : -2])
    challenge.user = user
    rows = []
    for values in fetched:
        row = loaded(using, MFAMethod, values[:n_method])
        row.user = user  # one user object, as the ORM would share it
        rows.append(row)
    backup_pk, backup_hash = first[-2:]
    return StepTwoRow(challenge, user, rows, backup_pk, backup_hash)
