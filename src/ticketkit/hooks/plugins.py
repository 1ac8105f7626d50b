"""The plugin manager, one per help desk, behind a small typed facade."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

if TYPE_CHECKING:
    from ticketkit.application.grants import GrantOfferMessage
    from ticketkit.application.invitations import InvitationMessage
    from ticketkit.application.views import NotificationMessage

from ticketkit.hooks import specs

log = logging.getLogger("ticketkit.plugins")


@attrs.frozen(kw_only=True)
class PluginFailure:
    """One plugin that raised while handling a notification."""

    plugin: str
    error: str


class Plugins:
    """Owns a ``pluggy.PluginManager``; calls hooks with typed arguments and results.

    Each implementation is called on its own, so one failing plugin neither hides the
    failure nor stops the other plugins from being called.
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager

    @classmethod
    def create(
        cls,
        plugins: Iterable[object] = (),
        *,
        load_entry_points: bool = False,
        disabled: Iterable[str] = (),
    ) -> Plugins:
        """Build a manager with our hook specs, the given plugin objects, and (optionally)
        every plugin installed under the ``ticketkit`` entry-point group except ``disabled``."""
        pm = pluggy.PluginManager(specs.PROJECT_NAME)
        pm.add_hookspecs(specs)
        for name in disabled:
            pm.set_blocked(name)
        facade = cls(pm)
        for plugin in plugins:
            pm.register(plugin, name=facade._stable_name(plugin))
        if load_entry_points:
            pm.load_setuptools_entrypoints(specs.ENTRY_POINT_GROUP)
        facade._check()
        return facade

    def _check(self) -> None:
        """Refuse hooks that no spec knows (a typo) and plugins that implement no hook at
        all (methods without ``@hookimpl``, which pluggy would silently ignore)."""
        self.manager.check_pending()
        for name, plugin in self.manager.list_name_plugin():
            if plugin is not None and not self.manager.get_hookcallers(plugin):
                self.manager.unregister(plugin)
                raise pluggy.PluginValidationError(
                    plugin,
                    f"plugin {name!r} implements no ticketkit hook: mark its methods "
                    "with @ticketkit.hookimpl (see docs/plugins.md)",
                )

    def _stable_name(self, plugin: object) -> str:
        """A name that survives restarts (pluggy's default is ``id()``), because the outbox
        remembers by name which plugins already took a notification."""
        base = getattr(plugin, "__name__", None)
        if not isinstance(base, str):
            base = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
        name, n = base, 1
        while self.manager.has_plugin(name):
            n += 1
            name = f"{base}#{n}"
        return name

    def register(self, plugin: object, name: str | None = None) -> None:
        self.manager.register(plugin, name=name or self._stable_name(plugin))
        self._check()

    def unregister(self, plugin: object) -> None:
        self.manager.unregister(plugin)

    def notify(
        self,
        message: NotificationMessage,
        *,
        skip: Iterable[str] = (),
        call: Callable[[str, Callable[[], None]], None] | None = None,
    ) -> tuple[list[str], list[PluginFailure]]:
        """Hand ``message`` to every notifier not in ``skip``, each through ``call`` (given
        the plugin's name and the call to make; delivery gives it a timeout) when given.

        Returns the names of the plugins that took it and the failures of the others, so a
        retry reaches only the plugins that failed.
        """
        impls = self.manager.hook.ticketkit_notify.get_hookimpls()
        return self._each(impls, {"message": message}, set(skip), call, message.notification_id)

    def invite(
        self,
        message: InvitationMessage,
        *,
        call: Callable[[str, Callable[[], None]], None] | None = None,
    ) -> tuple[list[str], list[PluginFailure]]:
        """Hand an invitation (with its token) to every plugin implementing
        ``ticketkit_invite``; the plugins that took it, and the failures of the others."""
        impls = self.manager.hook.ticketkit_invite.get_hookimpls()
        return self._each(impls, {"message": message}, set(), call, message.invitation_id)

    def grant_offer(
        self,
        message: GrantOfferMessage,
        *,
        call: Callable[[str, Callable[[], None]], None] | None = None,
    ) -> tuple[list[str], list[PluginFailure]]:
        """Hand a grant offer (with its token) to every plugin implementing
        ``ticketkit_grant_offer``; the plugins that took it, and the failures of the others."""
        impls = self.manager.hook.ticketkit_grant_offer.get_hookimpls()
        return self._each(impls, {"message": message}, set(), call, message.message_id)

    def _each(
        self,
        impls: list[Any],
        kwargs: dict[str, object],
        done: set[str],
        call: Callable[[str, Callable[[], None]], None] | None,
        key: object,
    ) -> tuple[list[str], list[PluginFailure]]:
        """Call each implementation on its own (through ``call`` when given); collect who
        took it and who failed."""
        delivered: list[str] = []
        failures: list[PluginFailure] = []
        for impl in reversed(impls):
            if impl.plugin_name in done:
                continue
            try:
                fn: Any = impl.function
                if call is None:
                    fn(**kwargs)
                else:
                    call(impl.plugin_name, partial(fn, **kwargs))
            except BaseException as exc:
                # Even SystemExit or KeyboardInterrupt from a plugin: this runs after the
                # operation committed, which must not look failed for a plugin's exit; the
                # notification is retried like any failed one.
                log.exception("plugin %s failed on %s", impl.plugin_name, key)
                failures.append(PluginFailure(plugin=impl.plugin_name, error=repr(exc)))
            else:
                delivered.append(impl.plugin_name)
        return delivered, failures
