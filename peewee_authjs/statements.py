"""SQL generated once by Peewee, executed many times with new parameters.

Peewee builds a query's SQL text anew on every call (about 150 µs for a JOIN),
which dwarfs the database's own work on SQLite. A :class:`Statement` asks Peewee
for the SQL once, with named holes (:func:`slot`) where the values go, and then
runs that text with fresh parameters: the SQL stays Peewee's, so every dialect
stays correct, and the per-call cost is the driver's.

Rows become records through a function compiled once per statement
(:func:`record_builder`): one dict display with the column keys as constants and
the decoders inlined, which is as fast as the dict a person would write by hand.

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
from peewee import SqliteDatabase
from peewee import Value

logger = logging.getLogger("peewee_authjs.sql")

_DEBUG = logging.DEBUG

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
RecordBuilder = Callable[[Sequence[Any]], dict[str, Any]]
#: One part of a nested record: its key, its column keys, and their decoders.
Part = tuple[str, Sequence[str], Mapping[str, Decoder]]


def _compile_builder(parts: Sequence[Part], nested: bool) -> RecordBuilder:
    """Generate ``def build(row): return {...}`` for ``parts`` (column ``i`` is ``row[i]``).

    Keys enter the source only through :func:`repr` and decoders only as names bound
    in the function's namespace, so any column name is safe.
    """
    namespace: dict[str, Any] = {}
    displays = []
    index = 0
    for part_key, keys, decoders in parts:
        items = []
        for key in keys:
            decode = decoders.get(key)
            if decode is None:
                items.append(f"{key!r}: row[{index}]")
            else:
                name = f"_decode{index}"
                namespace[name] = decode
                items.append(f"{key!r}: None if row[{index}] is None else {name}(row[{index}])")
            index += 1
        display = "{" + ", ".join(items) + "}"
        displays.append(f"{part_key!r}: {display}" if nested else display)
    body = "{" + ", ".join(displays) + "}" if nested else displays[0]
    source = f"def build(row):\n    return {body}\n"
    exec(compile(source, "<peewee_authjs record builder>", "exec"), namespace)
    builder: RecordBuilder = namespace["build"]
    return builder


def record_builder(columns: Sequence[str], decoders: Mapping[str, Decoder] | None = None) -> RecordBuilder:
    """A function from a row (values in ``columns`` order) to a dict keyed by ``columns``.

    ``decoders[key]`` turns the driver's value of that column into Python's; None stays None.
    """
    return _compile_builder([("", tuple(columns), dict(decoders or {}))], nested=False)


def nested_record_builder(parts: Sequence[Part]) -> RecordBuilder:
    """A function from a row to ``{part_key: {column key: value}}``, the parts' columns in order.

    For a JOIN read as several records at once (``{"session": {...}, "user": {...}}``).
    """
    return _compile_builder(parts, nested=True)


Binder = Callable[[Any], tuple[Any, ...]]


def _compile_binder(
    names: tuple[str | None, ...], constants: tuple[Any, ...], args: tuple[str, ...] | None
) -> Binder:
    """``def bind(values): return (values[...], ..., constant, ...)``: the parameters in SQL order.

    Values are looked up by slot name, or, when ``args`` is given, by position in ``args``.
    """
    position = {name: i for i, name in enumerate(args)} if args is not None else None
    if position is not None:
        missing = [name for name in names if name is not None and name not in position]
        if missing:
            raise ValueError(f"args= lacks the slots {missing}")
    namespace: dict[str, Any] = {}
    items = []
    for n, name in enumerate(names):
        if name is None:
            namespace[f"_constant{n}"] = constants[n]
            items.append(f"_constant{n}")
        elif position is not None:
            items.append(f"values[{position[name]}]")
        else:
            items.append(f"values[{name!r}]")
    source = f"def bind(values):\n    return ({''.join(item + ', ' for item in items)})\n"
    exec(compile(source, "<peewee_authjs parameter binder>", "exec"), namespace)
    binder: Binder = namespace["bind"]
    return binder


def _no_positional(values: Any) -> tuple[Any, ...]:
    raise TypeError("this statement takes its values as a mapping (it was made without args=)")


class Statement:
    """One SQL text with the order of its parameters, and how to read its rows.

    :param database: the database whose dialect renders the query.
    :param query: a Peewee query whose values are :func:`slot` holes (or constants).
    :param columns: for queries that return rows, the record key of each column, in order.
    :param decoders: for some of those keys, the function that turns the driver's value into Python's.
    :param args: the slot names in the order of a tuple of values passed instead of a mapping
        (a hot path then skips building a dict).
    :param build: the row-to-record function, instead of the one made from ``columns`` and ``decoders``.

    Values are a mapping keyed by slot name, or a tuple in ``args`` order.
    """

    __slots__ = ("sql", "_bind_mapping", "_bind_tuple", "_direct", "columns", "record")

    def __init__(
        self,
        database: Database,
        query: Node,
        columns: Sequence[str] = (),
        decoders: Mapping[str, Decoder] | None = None,
        *,
        args: Sequence[str] | None = None,
        build: RecordBuilder | None = None,
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
        # Values become parameters through compiled binders: by slot name from a mapping, or
        # by position from a tuple in ``args`` order (passed as it is when it already is the
        # parameters); constants (a LIMIT's, say) are filled in.
        self._bind_mapping = _compile_binder(tuple(names), tuple(constants), None)
        self._bind_tuple: Binder | None = None
        if args is None:
            if params:
                self._bind_tuple = _no_positional
        elif tuple(names) != tuple(args):
            self._bind_tuple = _compile_binder(tuple(names), tuple(constants), tuple(args))
        # SQLite through Peewee's own cursor(): run on the connection directly (sqlite3's
        # Connection.execute), skipping two Python calls per statement.
        direct = isinstance(database, SqliteDatabase) and type(database).cursor is Database.cursor
        self._direct = database._state if direct else None  # type: ignore[attr-defined]
        self.columns = tuple(columns)
        #: The row-to-record function: ``statement.record(row) -> dict``.
        self.record: RecordBuilder = build or record_builder(self.columns, decoders)

    def params(self, values: Mapping[str, Any] | tuple[Any, ...]) -> tuple[Any, ...]:
        """The parameter tuple for ``values`` (a mapping by slot name, or a tuple in ``args`` order)."""
        if type(values) is tuple:
            bind = self._bind_tuple
            return values if bind is None else bind(values)
        return self._bind_mapping(values)

    def execute(self, database: Database, values: Mapping[str, Any] | tuple[Any, ...]) -> Any:
        """Run the statement on ``database``'s current connection; the DB-API cursor."""
        if type(values) is tuple:  # self.params(), inlined: this is every read's path
            bind = self._bind_tuple
            params = values if bind is None else bind(values)
        else:
            params = self._bind_mapping(values)
        if logger.isEnabledFor(_DEBUG):
            logger.debug("%s", self.sql)
        try:
            state = self._direct
            conn = state.conn if state is not None else None
            if conn is not None:
                cursor = conn.execute(self.sql, params)
            else:
                cursor = cast(Any, database).cursor()
                cursor.execute(self.sql, params)
        except Exception:
            # Peewee's mapping of driver errors (IntegrityError...), paid only on failure.
            with _exception_wrapper:
                raise
        return cursor

    def fetch_one(
        self, database: Database, values: Mapping[str, Any] | tuple[Any, ...]
    ) -> dict[str, Any] | None:
        """Run the statement and return its first row as a record, or None."""
        rows = self.execute(database, values).fetchall()
        return self.record(rows[0]) if rows else None

    def fetch_all(
        self, database: Database, values: Mapping[str, Any] | tuple[Any, ...]
    ) -> list[dict[str, Any]]:
        """Run the statement and return every row as a record."""
        build = self.record
        return [build(row) for row in self.execute(database, values).fetchall()]

    def run(self, database: Database, values: Mapping[str, Any] | tuple[Any, ...]) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        return int(self.execute(database, values).rowcount)


def column_key(field: Field) -> str:
    """The record key of a model field: its column name."""
    return str(field.column_name)


__all__ = [
    "Decoder",
    "RecordBuilder",
    "Slot",
    "Statement",
    "column_key",
    "nested_record_builder",
    "record_builder",
    "slot",
]
