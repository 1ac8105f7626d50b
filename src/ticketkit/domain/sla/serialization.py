"""The storage form of SLA policies and clock states: JSON-ready dicts, exact to the
microsecond (durations as whole microseconds, instants as ISO 8601 in UTC)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import cattrs

from ticketkit.domain.sla.clocks import ClockState
from ticketkit.domain.sla.policies import EscalationRule, SlaPolicy

_MICROSECOND = timedelta(microseconds=1)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(enum.Enum, lambda v: v.value)
    conv.register_unstructure_hook(UUID, str)
    conv.register_structure_hook(UUID, lambda v, _: v if isinstance(v, UUID) else UUID(v))
    conv.register_unstructure_hook(timedelta, lambda v: v // _MICROSECOND)
    conv.register_structure_hook(timedelta, lambda v, _: timedelta(microseconds=v))
    conv.register_unstructure_hook(datetime, lambda v: v.isoformat())
    conv.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
    return conv


_CONVERTER = _make_converter()


def state_to_dict(state: ClockState) -> dict[str, Any]:
    """``state`` as JSON-ready data; ``state_from_dict`` gives it back unchanged."""
    data: dict[str, Any] = _CONVERTER.unstructure(state)
    return data


def state_from_dict(data: dict[str, Any]) -> ClockState:
    return _CONVERTER.structure(data, ClockState)


def policy_to_dict(policy: SlaPolicy) -> dict[str, Any]:
    """``policy`` as JSON-ready data; ``policy_from_dict`` gives it back unchanged."""
    data: dict[str, Any] = _CONVERTER.unstructure(policy)
    return data


def policy_from_dict(data: dict[str, Any]) -> SlaPolicy:
    return _CONVERTER.structure(data, SlaPolicy)


def rule_to_dict(rule: EscalationRule) -> dict[str, Any]:
    """``rule`` as JSON-ready data, as it stands in its policy's storage form (a deferred
    action keeps the rule it carries out)."""
    data: dict[str, Any] = _CONVERTER.unstructure(rule)
    return data


def rule_from_dict(data: dict[str, Any]) -> EscalationRule:
    return _CONVERTER.structure(data, EscalationRule)
