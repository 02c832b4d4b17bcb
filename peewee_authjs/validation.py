"""Checking records before anything is written.

A record is refused, with an :class:`~peewee_authjs.errors.InvalidInputError`
naming the key, when it has an unknown key (camelCase spellings get a "did you
mean"), misses a required key, or holds a value the column cannot keep the same
way on every backend: a wrong type, a naive datetime, a string that is too long,
holds a NUL byte or cannot be encoded as UTF-8, an integer out of range. Values
are never quoted in messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime
from datetime import timezone
from typing import Any

from peewee import BigIntegerField
from peewee import BooleanField
from peewee import CharField
from peewee import Field
from peewee import FloatField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

from peewee_authjs.errors import InvalidInputError
from peewee_authjs.fields import CANONICAL_UUID
from peewee_authjs.fields import UTCDateTimeField
from peewee_authjs.fields import UUIDTextField
from peewee_authjs.fields import parse_uuid
from peewee_authjs.fields import to_millis

#: The longest text a TEXT column holds on every backend (MySQL's TEXT), in UTF-8 bytes.
MAX_TEXT_BYTES = 65535
#: The instants every backend stores and reads back in any session time zone.
MIN_DATETIME = datetime(1000, 1, 1, tzinfo=timezone.utc)
MAX_DATETIME = datetime(9999, 12, 30, tzinfo=timezone.utc)

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

Normalizer = Callable[[Any], Any]


def _where(record: str, key: str) -> str:
    return f"{record}.{key}"


def _type_name(value: object) -> str:
    return type(value).__name__


def check_text(value: Any, where: str, max_chars: int | None = None) -> str:
    """A string storable on every backend, or InvalidInputError."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: expected a string, got {_type_name(value)}", where)
    if value.isascii() and "\x00" not in value:
        # The usual case, without encoding: one byte per character, no lone surrogate.
        if max_chars is not None and len(value) > max_chars:
            raise InvalidInputError(f"{where}: longer than {max_chars} characters", where)
        if len(value) > MAX_TEXT_BYTES:
            raise InvalidInputError(f"{where}: longer than {MAX_TEXT_BYTES} bytes of UTF-8", where)
        return value
    if "\x00" in value:
        raise InvalidInputError(f"{where}: NUL characters cannot be stored", where)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInputError(f"{where}: not encodable as UTF-8 (lone surrogate)", where) from None
    if max_chars is not None and len(value) > max_chars:
        raise InvalidInputError(f"{where}: longer than {max_chars} characters", where)
    if size > MAX_TEXT_BYTES:
        raise InvalidInputError(f"{where}: longer than {MAX_TEXT_BYTES} bytes of UTF-8", where)
    return value


def check_datetime(value: Any, where: str) -> datetime:
    """An aware datetime, in UTC and to the millisecond, or InvalidInputError."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{where}: expected a datetime, got {_type_name(value)}", where)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInputError(
            f"{where}: naive datetime; pass a timezone-aware one, e.g. datetime.now(timezone.utc)", where
        )
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidInputError(f"{where}: out of the storable range", where) from None
    if not MIN_DATETIME <= utc <= MAX_DATETIME:
        raise InvalidInputError(f"{where}: must lie between the years 1000 and 9999", where)
    return to_millis(utc)


def check_uuid(value: Any, where: str) -> str:
    """A dashed uuid string (lowercased), or InvalidInputError."""
    if type(value) is str and CANONICAL_UUID(value) is not None:
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: expected a uuid string, got {_type_name(value)}", where)
    parsed = parse_uuid(value)
    if parsed is None:
        raise InvalidInputError(f"{where}: not a dashed uuid string", where)
    return parsed


def check_int(value: Any, where: str, bounds: tuple[int, int] = _INT64) -> int:
    """An integer within ``bounds``, or InvalidInputError (``bool`` is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{where}: expected an integer, got {_type_name(value)}", where)
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidInputError(f"{where}: out of range [{bounds[0]}, {bounds[1]}]", where)
    return value


def check_bool(value: Any, where: str) -> bool:
    """A ``bool``, or InvalidInputError."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}: expected a bool, got {_type_name(value)}", where)
    return value


def _check_float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{where}: expected a finite number, got {_type_name(value)}", where)
    return float(value)


def normalizer_for(field: Field, where: str) -> Normalizer:
    """The check-and-normalize function of a model field's values."""
    if isinstance(field, ForeignKeyField):
        return normalizer_for(field.rel_field, where)
    if isinstance(field, UUIDTextField):
        return lambda value: check_uuid(value, where)
    if isinstance(field, UTCDateTimeField):
        return lambda value: check_datetime(value, where)
    if isinstance(field, CharField):
        max_chars = field.max_length
        return lambda value: check_text(value, where, max_chars)
    if isinstance(field, TextField):
        return lambda value: check_text(value, where)
    if isinstance(field, BooleanField):
        return lambda value: check_bool(value, where)
    if isinstance(field, BigIntegerField):
        return lambda value: check_int(value, where, _INT64)
    if isinstance(field, IntegerField):
        return lambda value: check_int(value, where, _INT32)
    if isinstance(field, FloatField):
        return lambda value: _check_float(value, where)
    return lambda value: value


def _squash(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _shown(key: object) -> str:
    text = str(key)
    return repr(text if len(text) <= 40 else text[:40] + "...")


class RecordSchema:
    """What a record of one table may and must hold.

    :param record: the record's name in messages (``user``, ``session``...).
    :param model: the bound model; its fields, by column name, are the allowed keys.
    :param required: keys that must be present (and not None) when creating.
    :param extra_rules: more checks per key, applied after the type check.
    """

    def __init__(
        self,
        record: str,
        model: type[Model],
        required: Iterable[str] = (),
        extra_rules: Mapping[str, Normalizer] | None = None,
    ) -> None:
        self.record = record
        self.fields: dict[str, Field] = {str(field.column_name): field for field in model._meta.sorted_fields}
        self.required = frozenset(required)
        self._nullable = {key: bool(field.null) for key, field in self.fields.items()}
        self._normalizers: dict[str, Normalizer] = {}
        rules = dict(extra_rules or {})
        for key, field in self.fields.items():
            base = normalizer_for(field, _where(record, key))
            rule = rules.get(key)
            self._normalizers[key] = base if rule is None else _chain(base, rule)
        self._squashed = {_squash(key): key for key in self.fields}

    def check(self, values: Any, required: Iterable[str] | None = None) -> dict[str, Any]:
        """The normalized copy of ``values``; raises InvalidInputError naming the first bad key."""
        if type(values) is not dict and not isinstance(values, Mapping):
            raise InvalidInputError(f"{self.record}: expected a dict, got {_type_name(values)}", None)
        checked: dict[str, Any] = {}
        normalizers = self._normalizers
        for key, value in values.items():
            normalize = normalizers.get(key) if type(key) is str or isinstance(key, str) else None
            if normalize is None:
                raise self._unknown(key)
            if value is None:
                # A key the record requires stays required in a partial update: None would
                # e.g. detach a session from its user (the Sequelize column is nullable).
                if not self._nullable[key] or key in self.required:
                    raise InvalidInputError(f"{_where(self.record, key)}: must not be None", key)
                checked[key] = None
            else:
                checked[key] = normalize(value)
        for key in self.required if required is None else required:
            if checked.get(key) is None:
                raise InvalidInputError(f"{_where(self.record, key)}: required", key)
        return checked

    def _unknown(self, key: object) -> InvalidInputError:
        message = f"{self.record}: unknown key {_shown(key)}"
        if isinstance(key, str):
            match = self._squashed.get(_squash(key))
            if match is not None:
                message += f" (did you mean {match!r}?)"
        known = ", ".join(self.fields)
        return InvalidInputError(f"{message}; the keys are: {known}", str(key)[:40])


def _chain(first: Normalizer, second: Normalizer) -> Normalizer:
    return lambda value: second(first(value))


__all__ = [
    "MAX_DATETIME",
    "MAX_TEXT_BYTES",
    "MIN_DATETIME",
    "RecordSchema",
    "check_bool",
    "check_datetime",
    "check_int",
    "check_text",
    "check_uuid",
    "normalizer_for",
]
