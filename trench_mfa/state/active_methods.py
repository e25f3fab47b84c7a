"""A user's active method rows, primary first: one plain statement.

Login step 1 reads them on every login (which method to challenge, which
others to offer). As a queryset, building and compiling the query cost
about as much as the password check of an MD5-hashed account; the text is
written once per database from the models' metadata
(:mod:`trench_mfa.state.sql`) and the rows are built as a query builds them::

    SELECT m.* FROM trench_mfa_mfamethod m
     WHERE m.user_id = %s AND m.is_active
     ORDER BY m.is_primary DESC, m.created_at, m.id
"""

from __future__ import annotations

from django.db import connections, router

from trench_mfa.models import MFAMethod
from trench_mfa.state import sql
from trench_mfa.user import UserPk


def _statement(using: str) -> str:
    def col(name: str | None = None) -> str:
        return f"m.{sql.quoted_column(using, MFAMethod, name)}"

    selected = ", ".join(sql.select_list(using, MFAMethod, "m"))
    # Only quoted names from the models' metadata are formatted in; the user
    # id is a parameter, the boolean a parameter too (no literal per backend).
    return (
        f"SELECT {selected} FROM {sql.quoted_table(using, MFAMethod)} m"  # noqa: S608
        f" WHERE {col('user')} = %s AND {col('is_active')} = %s"
        f" ORDER BY {col('is_primary')} DESC, {col('created_at')}, {col()}"
    )


def active_methods(user_id: UserPk | None) -> list[MFAMethod]:
    """The active rows of the user ``user_id``: the primary first, then by age.

    ``None`` (a user never saved) has none.
    """
    if user_id is None:
        return []
    using = router.db_for_read(MFAMethod)
    text = sql.cached(using, "active-methods", lambda: _statement(using))
    params = [sql.prepared(using, MFAMethod, "user", user_id), True]
    with connections[using].cursor() as cursor:
        cursor.execute(text, params)
        fetched = cursor.fetchall()
    return [sql.loaded(using, MFAMethod, values) for values in fetched]
