"""A small Django host app for the integration's tests: a model of its own, views that
write through the ORM and ticketkit together, a recording plugin, a user mapping."""
