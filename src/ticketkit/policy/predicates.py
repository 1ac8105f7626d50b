"""A tiny predicate vocabulary: one rule, two evaluations.

A predicate is a frozen value naming attributes of a record. ``evaluate`` answers it for one
domain object in memory; the SQL adapter compiles the same value into a WHERE clause. Rules
are written once, as predicates, so a list query and an object check cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs


@attrs.frozen
class Eq:
    """``attr == value`` (``value`` None means "is null")."""

    attr: str
    value: object


@attrs.frozen
class In:
    """``attr`` is one of ``values``; an empty set matches nothing."""

    attr: str
    values: frozenset[object]


@attrs.frozen
class Cmp:
    """``attr <op> value`` with op one of ``<``, ``<=``, ``>``, ``>=``; for keyset paging."""

    attr: str
    op: str
    value: object

    def __attrs_post_init__(self) -> None:
        if self.op not in ("<", "<=", ">", ">="):
            raise ValueError(f"op: unknown comparison {self.op!r}")


@attrs.frozen
class And:
    parts: tuple[Predicate, ...]


@attrs.frozen
class Or:
    parts: tuple[Predicate, ...]


@attrs.frozen
class Not:
    part: Predicate


@attrs.frozen
class Const:
    """Always true or always false."""

    value: bool


Predicate = Eq | In | Cmp | And | Or | Not | Const

TRUE = Const(True)
FALSE = Const(False)


def all_of(*parts: Predicate) -> Predicate:
    """Conjunction, simplified: TRUE parts vanish, a FALSE part wins."""
    kept: list[Predicate] = []
    for p in parts:
        if p == FALSE:
            return FALSE
        if p == TRUE:
            continue
        kept.extend(p.parts if isinstance(p, And) else (p,))
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def any_of(*parts: Predicate) -> Predicate:
    """Disjunction, simplified: FALSE parts vanish, a TRUE part wins."""
    kept: list[Predicate] = []
    for p in parts:
        if p == TRUE:
            return TRUE
        if p == FALSE:
            continue
        kept.extend(p.parts if isinstance(p, Or) else (p,))
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else Or(tuple(kept))


def one_of(attr: str, values: Iterable[object]) -> Predicate:
    vals = frozenset(values)
    if not vals:
        return FALSE
    if len(vals) == 1:
        return Eq(attr, next(iter(vals)))
    return In(attr, vals)


def attributes(pred: Predicate) -> frozenset[str]:
    """Every attribute name a predicate reads (lets adapters reject unknown names early)."""
    if isinstance(pred, Eq | In | Cmp):
        return frozenset({pred.attr})
    if isinstance(pred, And | Or):
        out: frozenset[str] = frozenset()
        for p in pred.parts:
            out |= attributes(p)
        return out
    if isinstance(pred, Not):
        return attributes(pred.part)
    return frozenset()


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def evaluate(pred: Predicate, record: object) -> bool:
    """Answer ``pred`` for one object by reading its attributes."""
    if isinstance(pred, Eq):
        return _plain(getattr(record, pred.attr)) == _plain(pred.value)
    if isinstance(pred, In):
        return _plain(getattr(record, pred.attr)) in {_plain(v) for v in pred.values}
    if isinstance(pred, Cmp):
        left: Any = getattr(record, pred.attr)
        right: Any = pred.value
        if left is None:
            return False
        match pred.op:
            case "<":
                return bool(left < right)
            case "<=":
                return bool(left <= right)
            case ">":
                return bool(left > right)
            case _:
                return bool(left >= right)
    if isinstance(pred, And):
        return all(evaluate(p, record) for p in pred.parts)
    if isinstance(pred, Or):
        return any(evaluate(p, record) for p in pred.parts)
    if isinstance(pred, Not):
        return not evaluate(pred.part, record)
    return pred.value
