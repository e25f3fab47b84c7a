"""Reads compiled to SQL once per database connection, then run with new values.

Building and compiling a queryset costs the ORM far more than running a
small indexed read. On the benchmark machine the login step-2 read (the
challenge, the user and the locked method rows, in one statement) took
about 3 ms to build and compile and 0.2 ms to run. A :class:`CompiledRead`
lets the ORM write the statement once per connection, with placeholder
values, and afterwards only swaps the values in. The ORM still writes the
SQL (quoting, joins, the row-lock clause of each backend) and still
converts the values it reads (dates, JSON, booleans on SQLite).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    #: Index in ``params`` -> index of the caller's value that goes there.
    slots: tuple[tuple[int, int], ...]
    compiler: SQLCompiler
    converters: dict[int, Any]


class CompiledRead:
    """A ``values_list()`` read whose SQL is compiled once per connection.

    ``build`` returns the queryset for the given values; it is called once
    per connection, with ``placeholders``: values that must each reach the
    statement's parameters unchanged and be told apart from any other
    parameter (e.g. a negative primary key, a string no column holds).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], placeholders: Sequence[Any]) -> None:
        self._build = build
        self._placeholders = tuple(placeholders)
        # Per connection object: connections are per thread, and a compiler
        # (with its converters) belongs to the connection it was made for.
        self._statements: weakref.WeakKeyDictionary[Any, _Statement] = weakref.WeakKeyDictionary()

    def _compile(self, using: str) -> _Statement:
        compiler = self._build(*self._placeholders).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = tuple(
            (index, arg)
            for index, value in enumerate(params)
            for arg, placeholder in enumerate(self._placeholders)
            if type(value) is type(placeholder) and value == placeholder
        )
        if {arg for _, arg in slots} != set(range(len(self._placeholders))):
            raise RuntimeError("a placeholder value did not reach the compiled statement")
        converters = compiler.get_converters([col for col, _, _ in compiler.select])
        return _Statement(sql, tuple(params), slots, compiler, converters)

    def rows(self, *values: Any, using: str) -> list[tuple[Any, ...]]:
        """Run the read with ``values`` in place of the placeholders.

        Must run inside ``transaction.atomic()``: the statements compiled here
        lock rows, and a lock outside a transaction would end at once.
        """
        if len(values) != len(self._placeholders):
            raise TypeError(f"expected {len(self._placeholders)} values, got {len(values)}")
        connection = connections[using]
        if connection.get_autocommit():
            raise TransactionManagementError("a compiled read must run inside atomic()")
        statement = self._statements.get(connection)
        if statement is None:
            statement = self._statements[connection] = self._compile(using)
        params = list(statement.params)
        for index, arg in statement.slots:
            params[index] = values[arg]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            fetched = cursor.fetchall()
        if not statement.converters:
            return [tuple(row) for row in fetched]
        return [
            tuple(row) for row in statement.compiler.apply_converters(fetched, statement.converters)
        ]
