"""The ``ticketkit`` command: maintenance a host runs from cron or a shell.

``ticketkit sla sweep`` announces due SLA warnings and breaches and runs escalations
(``docs/sla.md``); ``ticketkit upgrade`` migrates the database. The database comes from
``--database`` or ``TICKETKIT_DATABASE_URL``. Notifications the sweep writes stay in the
outbox for the host's own delivery (``deliver_pending``), which knows its plugins.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO
from uuid import UUID

from ticketkit.adapters.sqlalchemy import SqlStorage, create_engine_from_url, upgrade
from ticketkit.application.desk import HelpDesk
from ticketkit.application.sla_sweep import SweepReport


class Progress:
    """A progress bar on a terminal (a line per batch elsewhere, none when quiet)."""

    def __init__(self, total: int, out: TextIO, *, quiet: bool) -> None:
        self.total, self.out, self.quiet = total, out, quiet
        self.done = SweepReport()
        self.tty = out.isatty()

    def __call__(self, batch: SweepReport) -> None:
        self.done += batch
        if self.quiet:
            return
        d = self.done
        shown = min(d.tickets, self.total) if self.total else d.tickets
        width = 30
        filled = width * shown // self.total if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"[{bar}] {shown:,}/{self.total:,} tickets · {d.warnings:,} warnings · "
            f"{d.breaches:,} breaches · {d.actions:,} actions"
        )
        self.out.write(("\r" + line) if self.tty else line + "\n")
        self.out.flush()

    def finish(self) -> None:
        if self.tty and not self.quiet and self.done.tickets:
            self.out.write("\n")


def _desk(database: str | None) -> HelpDesk:
    url = database or os.environ.get("TICKETKIT_DATABASE_URL")
    if not url:
        raise SystemExit("ticketkit: give --database or set TICKETKIT_DATABASE_URL")
    try:
        engine = create_engine_from_url(url)
    except ValueError as exc:
        raise SystemExit(f"ticketkit: {exc}") from None
    return HelpDesk(SqlStorage(engine), delivery="outbox")


def _sweep(args: argparse.Namespace) -> int:
    desk = _desk(args.database)
    tenant = UUID(args.tenant) if args.tenant else None
    progress = Progress(desk.sla_due_count(tenant), sys.stderr, quiet=args.quiet)
    report = desk.sweep_sla(tenant, batch=args.batch, progress=progress)
    progress.finish()
    print(
        f"swept {report.tickets} tickets: {report.warnings} warnings, {report.breaches} "
        f"breaches, {report.actions} actions ({report.deferred} waiting for business hours), "
        f"{report.replayed} replayed"
    )
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    url = args.database or os.environ.get("TICKETKIT_DATABASE_URL")
    if not url:
        raise SystemExit("ticketkit: give --database or set TICKETKIT_DATABASE_URL")
    upgrade(create_engine_from_url(url))
    print("ticketkit's tables are up to date")
    return 0


def parser() -> argparse.ArgumentParser:
    """The ``ticketkit`` command's arguments."""
    top = argparse.ArgumentParser(prog="ticketkit", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database", help="sqlite:///file or postgresql://... (default: TICKETKIT_DATABASE_URL)"
    )
    commands = top.add_subparsers(dest="command", required=True)
    sla = commands.add_parser("sla", help="service levels").add_subparsers(
        dest="sla_command", required=True
    )
    sweep = sla.add_parser("sweep", parents=[common], help="announce due SLA warnings and breaches")
    sweep.add_argument("--tenant", help="one tenant's id (default: every tenant)")
    sweep.add_argument("--batch", type=int, default=500, help="tickets per unit of work")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=_sweep)
    migrate = commands.add_parser("upgrade", parents=[common], help="migrate the database")
    migrate.set_defaults(run=_upgrade)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ticketkit`` command."""
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
