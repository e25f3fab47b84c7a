"""Plain SQL for the login step's fixed statements, written from the models' metadata.

Login step 2 reads and writes a handful of rows with statements whose shape
never changes. Building them as querysets costs more Python than running
them (a few hundred microseconds per queryset, on every request), so their
text is written once per database from public metadata (``_meta`` table and
column names, quoted by the database backend) and cached; values always
travel as query parameters, each prepared by its own field's
``get_db_prep_save``, as the ORM would prepare it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, Field, Model
from django.utils import timezone

_M = TypeVar("_M", bound=Model)

#: Statement texts by (database alias, what they do): the models' metadata
#: is fixed once Django is set up, so a text never changes for a process.
_TEXTS: dict[tuple[str, str], str] = {}


def cached(using: str, key: str, build: Callable[[], str]) -> str:
    """The text ``build()`` writes for ``using``, written once per process."""
    text = _TEXTS.get((using, key))
    if text is None:
        text = _TEXTS[(using, key)] = build()
    return text


def column(model: type[Model], name: str | None = None) -> str:
    """The column of field ``name`` of ``model`` (its primary key by default), unquoted."""
    field = model._meta.get_field(name) if name else model._meta.pk
    assert isinstance(field, Field) and field.column  # concrete fields only
    return field.column


def quoted_column(using: str, model: type[Model], name: str | None = None) -> str:
    """:func:`column`, quoted for ``using``'s database."""
    return connections[using].ops.quote_name(column(model, name))


def quoted_table(using: str, model: type[Model]) -> str:
    """``model``'s table, quoted for ``using``'s database."""
    return connections[using].ops.quote_name(model._meta.db_table)


def prepared(using: str, model: type[Model], name: str, value: Any) -> Any:
    """``value`` of field ``name`` as a query parameter, prepared like the ORM prepares it."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_save(value, connections[using])


def insert_statement(
    using: str, model: type[Model], names: Sequence[str], *, returning: bool = False
) -> str:
    """``INSERT`` of one ``model`` row with the fields ``names`` (parameters in that order).

    ``returning``: ending in ``RETURNING`` the primary key, where the database
    can return columns from an insert (PostgreSQL, SQLite 3.35+).
    """
    returns = returning and connections[using].features.can_return_columns_from_insert

    def build() -> str:
        columns = ", ".join(quoted_column(using, model, n) for n in names)
        marks = ", ".join(["%s"] * len(names))
        text = f"INSERT INTO {quoted_table(using, model)} ({columns}) VALUES ({marks})"  # noqa: S608
        if returns:
            text += f" RETURNING {quoted_column(using, model)}"
        return text

    return cached(using, f"insert:{model._meta.label}:{','.join(names)}:{returns}", build)


def insert_row(using: str, model: type[_M], values: dict[str, Any]) -> _M:
    """Insert one ``model`` row with ``values`` (by field name); the row as loaded.

    Every concrete field but the primary key must be given: a default is
    the model's business, and a plain ``INSERT`` would not apply it. One
    statement; the instance is built with ``Model.from_db``, as a query
    would build it, so it carries the new primary key and the given values.
    """
    pk_field = model._meta.pk
    assert pk_field is not None
    fields = [f for f in concrete_fields(model) if f is not pk_field]
    names = [f.name for f in fields]
    missing = set(names) - set(values)
    unknown = set(values) - set(names)
    if missing or unknown:
        raise ValueError(
            f"insert_row({model._meta.label}): missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    ordered = [values[n] for n in names]
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            insert_statement(using, model, names, returning=True),
            [prepared(using, model, n, v) for n, v in zip(names, ordered, strict=True)],
        )
        if connection.features.can_return_columns_from_insert:
            returned = cursor.fetchone()
            assert returned is not None
            pk = returned[0]
        else:  # pragma: no cover - databases without INSERT ... RETURNING
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, column(model))
    attnames = [pk_field.attname, *(f.attname for f in fields)]
    return model.from_db(using, attnames, [pk, *ordered])


def concrete_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """``model``'s columns, in the order :func:`select_list` and :func:`loaded` use."""
    return list(model._meta.concrete_fields)


def select_list(using: str, model: type[Model], alias: str) -> list[str]:
    """``alias.<column>`` of every concrete field of ``model``, quoted for ``using``."""
    quote = connections[using].ops.quote_name
    return [f"{alias}.{quote(str(f.column))}" for f in concrete_fields(model)]


def _converted(using: str, fields: Sequence[Field[Any, Any]], values: Sequence[Any]) -> list[Any]:
    """``values`` as the ORM would load them, through the fields' public conversions.

    ``from_db_value`` always runs (the JSON fields parse their text). On
    PostgreSQL that is all the ORM does too: psycopg returns every other
    column as the Python value the field holds (Django's PostgreSQL backend
    has no converters for them), so ``to_python`` would only repeat work.
    Elsewhere (SQLite keeps dates as text and booleans as integers)
    ``to_python`` turns each value into the field's type.
    """
    connection = connections[using]
    native = connection.vendor == "postgresql"
    out = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            if hasattr(field, "from_db_value"):
                value = field.from_db_value(value, None, connection)
            if not native:
                value = field.to_python(value)
                if (
                    isinstance(field, DateTimeField)
                    and isinstance(value, dt.datetime)
                    and settings.USE_TZ
                    and timezone.is_naive(value)
                ):
                    # SQLite keeps UTC datetimes without an offset.
                    value = timezone.make_aware(value, connection.timezone)
        out.append(value)
    return out


def loaded(using: str, model: type[_M], values: Sequence[Any]) -> _M:
    """A ``model`` instance from the values of :func:`select_list`'s columns, as loaded."""
    fields = concrete_fields(model)
    names = [f.attname for f in fields]
    return model.from_db(using, names, _converted(using, fields, values))
