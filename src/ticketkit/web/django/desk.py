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
_desk: HelpDesk | None = None


def get_desk() -> HelpDesk:
    """The help desk on Django's database, as the ``TICKETKIT`` setting describes it."""
    global _desk  # noqa: PLW0603 - the process's one desk, as the host's own settings are
    desk = _desk
    if desk is None:
        with _lock:
            if _desk is None:
                _desk = build_desk(load())
            desk = _desk
    return desk


def reset_desk() -> None:
    """Drop the desk (after delivering what it queued); the next ``get_desk`` builds anew."""
    global _desk
    with _lock:
        desk, _desk = _desk, None
    if desk is not None:
        desk.close()


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


__all__ = ["build_desk", "get_desk", "reset_desk"]
