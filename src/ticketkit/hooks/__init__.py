"""Extension points: pluggy hooks for plugins, blinker signals for host listeners."""

from ticketkit.hooks.plugins import PluginFailure, Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.hooks.specs import hookimpl, hookspec

__all__ = ["PluginFailure", "Plugins", "Signals", "hookimpl", "hookspec"]
