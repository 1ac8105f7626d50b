"""Predicates compiled to SQL: one rule, answered in the database exactly as in memory.

``evaluate`` uses two-valued Python logic, where ``None == x`` is simply false. SQL uses three
values, where ``NULL = x`` is unknown and ``NOT unknown`` is still unknown. Every comparison
on a nullable column is therefore guarded with ``IS NOT NULL`` so that it is never unknown,
and ``Not`` gives the same answer as in memory.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, and_, false, not_, or_, true
from sqlalchemy.sql.elements import KeyedColumnElement

from ticketkit.policy.predicates import And, Cmp, Eq, In, Not, Or, Predicate

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def column(table: Table, attr: str) -> KeyedColumnElement[Any]:
    """The column behind a record attribute; ValueError for names the table cannot answer."""
    col = table.c.get(attr)
    if col is None:
        raise ValueError(f"{attr}: not an attribute of {table.name} that can be queried")
    if isinstance(col.type, JSON):
        raise ValueError(f"{attr}: structured attribute of {table.name} cannot be queried")
    return col


def _guard(col: KeyedColumnElement[Any], expr: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(col.is_not(None), expr) if col.nullable else expr


def compile_predicate(pred: Predicate, table: Table) -> ColumnElement[bool]:
    """A boolean SQL expression over ``table`` selecting exactly the rows ``evaluate`` would."""
    if isinstance(pred, Eq):
        col = column(table, pred.attr)
        value = _plain(pred.value)
        if value is None:
            return col.is_(None)
        return _guard(col, col == value)
    if isinstance(pred, In):
        col = column(table, pred.attr)
        values = {_plain(v) for v in pred.values}
        parts: list[ColumnElement[bool]] = []
        if None in values:
            values.discard(None)
            parts.append(col.is_(None))
        if values:
            parts.append(_guard(col, col.in_(list(values))))
        return or_(*parts) if parts else false()
    if isinstance(pred, Cmp):
        col = column(table, pred.attr)
        value = _plain(pred.value)
        if value is None:
            raise ValueError(f"{pred.attr}: cannot compare {pred.op!r} with None")
        expr: ColumnElement[bool] = _OPERATORS[pred.op](col, value)
        return _guard(col, expr)
    if isinstance(pred, And):
        if not pred.parts:
            return true()
        return and_(*(compile_predicate(p, table) for p in pred.parts))
    if isinstance(pred, Or):
        if not pred.parts:
            return false()
        return or_(*(compile_predicate(p, table) for p in pred.parts))
    if isinstance(pred, Not):
        return not_(compile_predicate(pred.part, table))
    return true() if pred.value else false()


__all__ = ["column", "compile_predicate"]
