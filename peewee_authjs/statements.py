"""SQL generated once by Peewee, executed many times with new parameters.

Peewee builds a query's SQL text anew on every call (about 150 µs for a JOIN),
which dwarfs the database's own work on SQLite. A :class:`Statement` asks Peewee
for the SQL once, with named holes (:func:`slot`) where the values go, and then
runs that text with fresh parameters: the SQL stays Peewee's, so every dialect
stays correct, and the per-call cost is the driver's.

Statements are executed on the raw DB-API cursor, under Peewee's exception
mapping, so errors are still ``peewee.IntegrityError`` and friends. The SQL text
(never the parameters, which hold tokens) is logged at DEBUG on the
``peewee_authjs.sql`` logger; tests count statements there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

import peewee
from peewee import Database
from peewee import Field
from peewee import Node
from peewee import Value

logger = logging.getLogger("peewee_authjs.sql")

# Peewee's mapping of DB-API exceptions to its own (IntegrityError, OperationalError...).
_exception_wrapper: Any = vars(peewee)["__exception_wrapper__"]


class Slot:
    """A named parameter hole in a compiled statement."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


def slot(name: str) -> Value:
    """A Peewee node standing for the parameter ``name``, passed through unconverted."""
    return Value(Slot(name), converter=False, unpack=False)


Decoder = Callable[[Any], Any]


class Statement:
    """One SQL text with the order of its parameters, and how to read its rows.

    :param database: the database whose dialect renders the query.
    :param query: a Peewee query whose values are :func:`slot` holes (or constants).
    :param columns: for queries that return rows, the record key of each column, in order.
    :param decoders: for some of those keys, the function that turns the driver's value into Python's.
    """

    __slots__ = ("sql", "_names", "_constants", "_simple", "columns", "_decoders")

    def __init__(
        self,
        database: Database,
        query: Node,
        columns: Sequence[str] = (),
        decoders: Mapping[str, Decoder] | None = None,
    ) -> None:
        context: Any = database.get_sql_context()
        sql, params = context.sql(query).query()
        self.sql: str = sql
        names: list[str | None] = []
        constants: list[Any] = []
        for param in params:
            if isinstance(param, Slot):
                names.append(param.name)
                constants.append(None)
            else:
                names.append(None)
                constants.append(param)
        self._names = tuple(names)
        self._constants = tuple(constants)
        self._simple = all(name is not None for name in names)
        self.columns = tuple(columns)
        decoders = decoders or {}
        self._decoders = tuple((key, decoders[key]) for key in self.columns if key in decoders)

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameter tuple for ``values`` (keyed by slot name)."""
        if self._simple:
            return tuple([values[name] for name in self._names])  # type: ignore[index]
        return tuple(
            [
                values[name] if name is not None else constant
                for name, constant in zip(self._names, self._constants, strict=True)
            ]
        )

    def execute(self, database: Database, values: Mapping[str, Any]) -> Any:
        """Run the statement on ``database``'s current connection; the DB-API cursor."""
        params = self.params(values)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", self.sql)
        with _exception_wrapper:
            cursor = cast(Any, database).cursor()
            cursor.execute(self.sql, params)
        return cursor

    def record(self, row: Sequence[Any]) -> dict[str, Any]:
        """A row of this statement's result as a dict keyed by record key."""
        record = dict(zip(self.columns, row, strict=True))
        for key, decode in self._decoders:
            value = record[key]
            if value is not None:
                record[key] = decode(value)
        return record

    def fetch_one(self, database: Database, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Run the statement and return its first row as a record, or None."""
        cursor = self.execute(database, values)
        rows = cursor.fetchall()
        return self.record(rows[0]) if rows else None

    def fetch_all(self, database: Database, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run the statement and return every row as a record."""
        cursor = self.execute(database, values)
        return [self.record(row) for row in cursor.fetchall()]

    def run(self, database: Database, values: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        cursor = self.execute(database, values)
        return int(cursor.rowcount)


def column_key(field: Field) -> str:
    """The record key of a model field: its column name."""
    return str(field.column_name)


__all__ = ["Slot", "Statement", "column_key", "slot"]
