"""Django's ``flush``, which also empties ticketkit's tables.

Django's own flush empties the tables of models only, and ticketkit's are no models' (its
schema is its Alembic history): without this, a ``TransactionTestCase`` would leave every
ticketkit row to the next test. Alembic's version table is kept, as Django keeps its
migration records. ``migrate`` never empties anything: only a flush does.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from ticketkit.web.django.desk import reset_desk
from ticketkit.web.django.schema import clear_tables


class Command(flush.Command):  # type: ignore[misc]  # django is untyped
    help = flush.Command.help + " ticketkit's tables are emptied too."

    def handle(self, **options: Any) -> None:
        database = options["database"]
        if options["interactive"]:
            name = connections[database].settings_dict["NAME"]
            confirm = input(
                "You have requested a flush of the database.\n"
                f"This will IRREVERSIBLY DESTROY all data currently in the {name!r} database,"
                " ticketkit's included,\nand return each table to an empty state.\n"
                "Are you sure you want to do this?\n\n"
                "    Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
            options = {**options, "interactive": False}
        super().handle(**options)
        clear_tables(database)
        # Its cache of committed ticket types may name types that are gone now.
        reset_desk()
