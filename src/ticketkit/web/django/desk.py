"""The host's one ``HelpDesk``, built from the ``TICKETKIT`` setting on first use.

Built lazily (never in ``AppConfig.ready()``, which touches no database) and once per
process; a change of the setting (``override_settings`` in tests) drops it, closing it first.
"""

from __future__ import annotations

import threading

from django.utils.module_loading import import_string

from ticketkit.application.desk import HelpDesk
from ticketkit.hooks.plugins import Plugins
from ticketkit.web.django.conf import TicketkitSettings, load
from ticketkit.web.django.storage import DjangoStorage

_lock = threading.Lock()
_built: tuple[HelpDesk, TicketkitSettings] | None = None


def _current() -> tuple[HelpDesk, TicketkitSettings]:
    global _built  # noqa: PLW0603 - the process's one desk, as the host's own settings are
    built = _built
    if built is None:
        with _lock:
            if _built is None:
                conf = load()
                _built = (build_desk(conf), conf)
            built = _built
    return built


def get_desk() -> HelpDesk:
    """The help desk on Django's database, as the ``TICKETKIT`` setting describes it."""
    return _current()[0]


def current_settings() -> TicketkitSettings:
    """The ``TICKETKIT`` setting the desk was built from (read and checked once)."""
    return _current()[1]


def reset_desk() -> None:
    """Drop the desk (after delivering what it queued); the next ``get_desk`` builds anew."""
    global _built
    with _lock:
        built, _built = _built, None
    if built is not None:
        built[0].close()


def _plugin(path: str) -> object:
    """The plugin object ``path`` names: the object itself, or an instance of a class."""
    found = import_string(path)
    return found() if isinstance(found, type) else found


def build_desk(conf: TicketkitSettings) -> HelpDesk:
    """A help desk as ``conf`` describes it, on ``DjangoStorage``."""
    return HelpDesk(
        DjangoStorage(conf.database),
        plugins=Plugins.create([_plugin(path) for path in conf.plugins]),
        delivery=conf.delivery,
        delivery_timeout=conf.delivery_timeout,
        acknowledge_within=conf.acknowledge_within,
    )


__all__ = ["build_desk", "current_settings", "get_desk", "reset_desk"]
