"""Visibility and permission rules, defined once as predicates."""

from ticketkit.policy.predicates import (
    FALSE,
    TRUE,
    And,
    Cmp,
    Const,
    Eq,
    In,
    Not,
    Or,
    Predicate,
    all_of,
    any_of,
    evaluate,
    one_of,
)
from ticketkit.policy.rules import DEFAULT_POLICY, PERMISSIONS, Access, Action, Policy, Viewer

__all__ = [
    "DEFAULT_POLICY",
    "FALSE",
    "PERMISSIONS",
    "TRUE",
    "Access",
    "Action",
    "And",
    "Cmp",
    "Const",
    "Eq",
    "In",
    "Not",
    "Or",
    "Policy",
    "Predicate",
    "Viewer",
    "all_of",
    "any_of",
    "evaluate",
    "one_of",
]
