"""The Django app: ``INSTALLED_APPS = [..., "ticketkit.web.django"]`` (label ``ticketkit``)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed

from ticketkit.web.django.conf import SETTING, check_settings


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING:
        from ticketkit.web.django.desk import reset_desk  # noqa: PLC0415

        reset_desk()


class TicketkitConfig(AppConfig):  # type: ignore[misc]  # django is untyped
    """ticketkit in a Django project. ``ready()`` registers the check of the ``TICKETKIT``
    setting and drops the desk when that setting changes; it touches no database: the
    tables come with ``migrate``, the desk on first use."""

    name = "ticketkit.web.django"
    label = "ticketkit"
    verbose_name = "ticketkit"

    def ready(self) -> None:
        checks.register(check_settings, "ticketkit")
        setting_changed.connect(_setting_changed, dispatch_uid="ticketkit.setting_changed")
