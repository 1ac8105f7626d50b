"""The ``TICKETKIT`` setting: its keys, their defaults, and the system check that reads it.

Everything here looks at settings only: no database is touched, so ``manage.py check`` runs
without one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.module_loading import import_string

from ticketkit.application.delivery import DeliveryMode

SETTING = "TICKETKIT"
MIDDLEWARE = "ticketkit.web.django.middleware.TicketkitMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@attrs.frozen(kw_only=True)
class TicketkitSettings:
    """The ``TICKETKIT`` setting read: each key's value or its default."""

    #: The alias in ``DATABASES`` ticketkit's tables live in and its units of work run on.
    database: str = DEFAULT_DB_ALIAS
    #: Dotted paths to plugin objects, or to classes made without arguments.
    plugins: tuple[str, ...] = ()
    #: Dotted path to ``person_for_user(user) -> Actor | None``: a signed-in Django user's
    #: ticketkit person, or None for none.
    person_for_user: str | None = None
    #: Where notifications go to the plugins once Django commits: "inline" (the committing
    #: thread, before the response) or "background" (ticketkit's delivery thread).
    delivery: DeliveryMode = DeliveryMode.INLINE
    #: Seconds each plugin call may take.
    delivery_timeout: float = 10.0
    #: Seconds deliveries may wait to be written as done, in batches (0: at once).
    acknowledge_within: float = 0.0
    #: The portal's name where no ``branding.display_name`` is set or nobody signed in.
    brand_name: str = "Help desk"


KEYS = {
    "DATABASE": "database",
    "PLUGINS": "plugins",
    "PERSON_FOR_USER": "person_for_user",
    "DELIVERY": "delivery",
    "DELIVERY_TIMEOUT": "delivery_timeout",
    "ACKNOWLEDGE_WITHIN": "acknowledge_within",
    "BRAND_NAME": "brand_name",
}


@attrs.frozen
class Problem:
    """One thing wrong with the settings, as a system check reports it."""

    id: str
    msg: str
    hint: str | None = None


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _importable(path: object, what: str) -> tuple[Any, str | None]:
    """The object ``path`` names, or why it names none."""
    if not isinstance(path, str) or "." not in path:
        return None, f"expected a dotted path to {what}, got {path!r}"
    try:
        return import_string(path), None
    except ImportError as exc:
        return None, f"{path!r} cannot be imported: {exc}"


def _database(value: object) -> list[Problem]:
    if not isinstance(value, str) or value not in connections.settings:
        return [
            Problem(
                "ticketkit.E002",
                f"TICKETKIT['DATABASE'] is {value!r}, not an alias in DATABASES",
                f"Use one of {sorted(connections.settings)}.",
            )
        ]
    try:
        connection = connections[value]
        vendor = connection.vendor
    except Exception as exc:  # a backend that cannot even be loaded
        return [Problem("ticketkit.E003", f"database {value!r} cannot be loaded: {exc}")]
    if vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import is_psycopg3  # noqa: PLC0415

        if not is_psycopg3:
            return [
                Problem(
                    "ticketkit.E003",
                    f"database {value!r} runs on psycopg2; ticketkit needs psycopg 3",
                    'Install "ticketkit[postgres]" (psycopg 3); Django prefers it to psycopg2.',
                )
            ]
    elif vendor != "sqlite":
        return [
            Problem(
                "ticketkit.E003",
                f"database {value!r} is {vendor}; ticketkit runs on SQLite and PostgreSQL",
            )
        ]
    return []


def _plugins(value: object) -> list[Problem]:
    if not isinstance(value, list | tuple):
        return [Problem("ticketkit.E004", f"TICKETKIT['PLUGINS'] must be a list, got {value!r}")]
    found = []
    for path in value:
        _, why = _importable(path, "a plugin object or class")
        if why is not None:
            found.append(Problem("ticketkit.E004", f"TICKETKIT['PLUGINS']: {why}"))
    return found


def _person_for_user(value: object) -> list[Problem]:
    if value is None:
        return []
    target, why = _importable(value, "a function person_for_user(user)")
    if why is None and not callable(target):
        why = f"{value!r} is not callable"
    if why is not None:
        return [Problem("ticketkit.E005", f"TICKETKIT['PERSON_FOR_USER']: {why}")]
    return []


def _delivery(value: object) -> list[Problem]:
    if value not in {mode.value for mode in DeliveryMode}:
        return [
            Problem(
                "ticketkit.E006",
                f"TICKETKIT['DELIVERY'] is {value!r}",
                'Use "inline" or "background".',
            )
        ]
    return []


def _seconds(key: str, value: object, *, zero: bool) -> list[Problem]:
    if _is_number(value) and (value >= 0 if zero else value > 0):  # type: ignore[operator]
        return []
    bound = "zero or more" if zero else "more than zero"
    return [
        Problem(
            "ticketkit.E007", f"TICKETKIT[{key!r}] must be a number of seconds, {bound}: {value!r}"
        )
    ]


_CHECKS: dict[str, Callable[[object], list[Problem]]] = {
    "DATABASE": _database,
    "PLUGINS": _plugins,
    "PERSON_FOR_USER": _person_for_user,
    "DELIVERY": _delivery,
    "DELIVERY_TIMEOUT": lambda v: _seconds("DELIVERY_TIMEOUT", v, zero=False),
    "ACKNOWLEDGE_WITHIN": lambda v: _seconds("ACKNOWLEDGE_WITHIN", v, zero=True),
    "BRAND_NAME": lambda v: (
        []
        if isinstance(v, str) and v.strip()
        else [Problem("ticketkit.E009", f"TICKETKIT['BRAND_NAME'] must be a name, got {v!r}")]
    ),
}


def problems(raw: object) -> list[Problem]:
    """Everything wrong with ``raw`` as the ``TICKETKIT`` setting."""
    if not isinstance(raw, Mapping):
        return [Problem("ticketkit.E001", f"TICKETKIT must be a dict, got {type(raw).__name__}")]
    found = []
    unknown = sorted(str(key) for key in raw if key not in KEYS)
    if unknown:
        found.append(
            Problem(
                "ticketkit.E001",
                f"TICKETKIT has unknown keys: {', '.join(unknown)}",
                f"The keys are {', '.join(KEYS)}.",
            )
        )
    defaults = TicketkitSettings()
    for key, attr in KEYS.items():
        value = raw.get(key, getattr(defaults, attr))
        found.extend(_CHECKS[key](value))
    return found


def _middleware(raw: object) -> list[Problem]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE not in middleware:
        return []
    position = middleware.index(MIDDLEWARE)
    needed = [SESSION_MIDDLEWARE]
    if isinstance(raw, Mapping) and raw.get("PERSON_FOR_USER") is not None:
        needed.append(AUTH_MIDDLEWARE)
    return [
        Problem(
            "ticketkit.E008",
            f"{MIDDLEWARE} must come after {name} in MIDDLEWARE",
            "It reads the session (and, with PERSON_FOR_USER, request.user).",
        )
        for name in needed
        if name not in middleware[:position]
    ]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The system check of the ``TICKETKIT`` setting (and the middleware's place)."""
    raw = getattr(settings, SETTING, {})
    return [checks.Error(p.msg, hint=p.hint, id=p.id) for p in [*problems(raw), *_middleware(raw)]]


def load() -> TicketkitSettings:
    """The ``TICKETKIT`` setting read, or ``ImproperlyConfigured`` naming what is wrong."""
    raw = getattr(settings, SETTING, {})
    found = problems(raw)
    if found:
        raise ImproperlyConfigured("; ".join(f"{p.id}: {p.msg}" for p in found))
    given = {attr: raw[key] for key, attr in KEYS.items() if key in raw}
    if "plugins" in given:
        given["plugins"] = tuple(given["plugins"])
    if "delivery" in given:
        given["delivery"] = DeliveryMode(given["delivery"])
    return TicketkitSettings(**given)


__all__ = ["KEYS", "Problem", "TicketkitSettings", "check_settings", "load", "problems"]
