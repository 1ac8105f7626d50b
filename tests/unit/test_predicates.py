"""The predicate vocabulary: simplification and in-memory evaluation, NULLs included."""

from __future__ import annotations

import attrs
import pytest

from ticketkit.domain import Visibility
from ticketkit.policy import (
    FALSE,
    TRUE,
    And,
    Cmp,
    Eq,
    In,
    Not,
    Or,
    all_of,
    any_of,
    evaluate,
    one_of,
)
from ticketkit.policy.predicates import attributes


@attrs.frozen
class Row:
    a: int | None
    v: Visibility = Visibility.PUBLIC


def test_combinators_simplify_constants() -> None:
    e = Eq("a", 1)
    assert all_of() == TRUE and any_of() == FALSE
    assert all_of(TRUE, e) == e and all_of(e, FALSE) == FALSE
    assert any_of(FALSE, e) == e and any_of(e, TRUE) == TRUE
    assert all_of(e, all_of(Eq("a", 2), Eq("a", 3))) == And((e, Eq("a", 2), Eq("a", 3)))
    assert one_of("a", []) == FALSE and one_of("a", [1]) == Eq("a", 1)
    assert one_of("a", [1, 2]) == In("a", frozenset({1, 2}))


def test_null_semantics_match_sql_three_valued_logic_as_compiled() -> None:
    null = Row(a=None)
    assert evaluate(Eq("a", None), null)
    assert not evaluate(Eq("a", 1), null) and evaluate(Not(Eq("a", 1)), null)
    assert not evaluate(Cmp("a", "<", 5), null) and evaluate(Not(Cmp("a", "<", 5)), null)
    assert not evaluate(In("a", frozenset({1})), null)


def test_enums_compare_by_value() -> None:
    assert evaluate(Eq("v", "public"), Row(a=1))
    assert evaluate(Eq("v", Visibility.PUBLIC), Row(a=1))


def test_attributes_lists_every_name_read() -> None:
    p = Or((Eq("a", 1), Not(And((Cmp("b", ">", 2), In("c", frozenset({1})))))))
    assert attributes(p) == {"a", "b", "c"}


def test_unknown_comparison_is_refused() -> None:
    with pytest.raises(ValueError, match="op"):
        Cmp("a", "!=", 1)


def test_comment_counter_refuses_a_rule_a_tally_cannot_answer() -> None:
    import uuid

    from ticketkit.domain import Role
    from ticketkit.policy import Policy, Viewer

    class AuthorRule(Policy):
        def comments(self, viewer: Viewer) -> Eq:  # type: ignore[override]
            return Eq("author_id", viewer.person_id)

    viewer = Viewer(
        tenant_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        role=Role.GUEST,
        project_ids=frozenset(),
    )
    with pytest.raises(ValueError, match="author_id"):
        AuthorRule().comment_counter(viewer)


def test_comment_counter_counts_public_and_own_organisation_groups() -> None:
    """An agent of an organisation (a customer's own desk here) counts the public comments
    and her organisation's internal ones; a guest of it only the public ones."""
    import uuid

    from ticketkit.domain import Role
    from ticketkit.policy import DEFAULT_POLICY, Viewer

    mine, theirs = uuid.uuid4(), uuid.uuid4()
    tally = {
        (Visibility.PUBLIC, theirs): 3,
        (Visibility.INTERNAL, theirs): 5,
        (Visibility.INTERNAL, mine): 2,
    }
    for role, counted in ((Role.CUSTOMER_AGENT, 5), (Role.GUEST, 3)):
        viewer = Viewer(
            tenant_id=uuid.uuid4(),
            person_id=uuid.uuid4(),
            organisation_id=mine,
            role=role,
            project_ids=frozenset(),
        )
        assert DEFAULT_POLICY.count_comments(viewer, tally) == counted


def test_equal_predicates_that_mean_different_instants_are_answered_separately() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    first = Cmp("at", ">", datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=new_york))  # 05:30Z
    second = Cmp("at", ">", datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york))  # 06:30Z
    assert first == second  # Python compares the two readings as equal...
    record = SimpleNamespace(at=datetime(2026, 11, 1, 6, 0, tzinfo=UTC))
    assert evaluate(first, record) is True
    assert evaluate(second, record) is False  # ...but they are an hour apart


def test_very_long_disjunctions_evaluate_without_deep_recursion() -> None:
    ids = list(range(5000))
    pred = Or(tuple(Eq("a", i) for i in ids))
    assert evaluate(pred, Row(4999)) is True
    assert evaluate(pred, Row(-1)) is False
    assert evaluate(And(tuple(Not(Eq("a", i)) for i in ids)), Row(-1)) is True


def test_predicates_with_unhashable_values_still_evaluate() -> None:
    from types import SimpleNamespace

    assert evaluate(Eq("x", ["a", "b"]), SimpleNamespace(x=["a", "b"])) is True
