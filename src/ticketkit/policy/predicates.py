"""A tiny predicate vocabulary: one rule, two evaluations.

A predicate is a frozen value naming attributes of a record. ``evaluate`` answers it for one
domain object in memory; the SQL adapter compiles the same value into a WHERE clause. Rules
are written once, as predicates, so a list query and an object check cannot drift apart.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterable
from typing import Any

import attrs


@attrs.frozen(cache_hash=True)
class Eq:
    """``attr == value`` (``value`` None means "is null")."""

    attr: str
    value: object


@attrs.frozen(cache_hash=True)
class In:
    """``attr`` is one of ``values``; an empty set matches nothing."""

    attr: str
    values: frozenset[object]


@attrs.frozen(cache_hash=True)
class Cmp:
    """``attr <op> value`` with op one of ``<``, ``<=``, ``>``, ``>=``; for keyset paging."""

    attr: str
    op: str
    value: object

    def __attrs_post_init__(self) -> None:
        if self.op not in ("<", "<=", ">", ">="):
            raise ValueError(f"op: unknown comparison {self.op!r}")


@attrs.frozen(cache_hash=True)
class And:
    parts: tuple[Predicate, ...]


@attrs.frozen(cache_hash=True)
class Or:
    parts: tuple[Predicate, ...]


@attrs.frozen(cache_hash=True)
class Not:
    part: Predicate


@attrs.frozen(cache_hash=True)
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


Check = Callable[[object], bool]


def evaluate(pred: Predicate, record: object) -> bool:
    """Answer ``pred`` for one object by reading its attributes."""
    return compile_check(pred)(record)


def compile_check(pred: Predicate) -> Check:
    """``pred`` as a Python function of one record: the in-memory meaning of a predicate.

    A check costs a few closure calls instead of a walk over the tree; whoever asks many
    times (a call's ``Access``, a listing) builds it once and keeps it."""
    return _build_check(pred)


def _build_check(pred: Predicate) -> Check:
    if isinstance(pred, Eq):
        get, want = operator.attrgetter(pred.attr), _plain(pred.value)

        def equal(record: object) -> bool:
            got = get(record)
            # A StrEnum equals its value already; other enums compare by their value.
            return bool(got == want) or (isinstance(got, enum.Enum) and got.value == want)

        return equal
    if isinstance(pred, In):
        get, allowed = operator.attrgetter(pred.attr), frozenset(_plain(v) for v in pred.values)

        def member(record: object) -> bool:
            got = get(record)
            return got in allowed or (isinstance(got, enum.Enum) and got.value in allowed)

        return member
    if isinstance(pred, Cmp):
        return _compile_cmp(pred)
    if isinstance(pred, And | Or):
        return _chain([compile_check(p) for p in pred.parts], isinstance(pred, And))
    if isinstance(pred, Not):
        inner = compile_check(pred.part)
        return lambda record: not inner(record)
    value = pred.value
    return lambda record: value


def _chain(checks: list[Check], conjunction: bool) -> Check:
    """``and``/``or`` of checks as nested closures (cheaper than ``all`` over a generator)."""
    if not checks:
        return lambda record: conjunction
    if len(checks) == 1:
        return checks[0]
    if len(checks) > 8:  # long lists (one Eq per id, say) would nest too deep
        parts = tuple(checks)
        if conjunction:
            return lambda record: all(check(record) for check in parts)
        return lambda record: any(check(record) for check in parts)
    first, rest = checks[0], _chain(checks[1:], conjunction)
    if conjunction:
        return lambda record: first(record) and rest(record)
    return lambda record: first(record) or rest(record)


def _compile_cmp(pred: Cmp) -> Check:
    attr, op = pred.attr, _COMPARISONS[pred.op]
    right: Any = pred.value

    def check(record: object) -> bool:
        left: Any = getattr(record, attr)
        # NULL compares as unknown in SQL: never true.
        return left is not None and bool(op(left, right))

    return check


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
