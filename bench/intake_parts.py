"""SQLite intake of this checkout with parts of its work switched off, beside a base revision.

Issue 17's intake bar compares this code with the code before the issue (6ffe7fd). This
measures how much of the gap each part of the newer work accounts for, by switching parts
off cumulatively and measuring the intake again (1,000 tickets per unit of work, one unit
per ticket, one unit per call, as ``bench/tickets.py`` does), in rounds that alternate with
the base revision, each run in a fresh process on a fresh SQLite file:

- ``shipped``: this checkout as hosts get it (delivery on its own thread);
- ``no-delivery``: notifications written to the outbox but not delivered
  (``DeliveryMode.OUTBOX``), where the base delivers inline;
- ``+old-indexes``: also the tickets' list indexes replaced by the six of the base schema;
- ``+no-config-reads``: also no read of the SLA configuration and of the groups serving a
  project; both answer what the database would (the bench's tenant has neither).

These are experiments, not configurations: the switches reach into the SQL adapter's
internals and fail loudly when those change. Figures, not assertions.

    python bench/intake_parts.py --rounds 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("batch", "ticket", "call")
LABELS = {
    "batch": "1,000 tickets per unit of work",
    "ticket": "one unit of work per ticket",
    "call": "one unit of work per call",
}
VARIANTS = ("shipped", "no-delivery", "+old-indexes", "+no-config-reads")
#: The tickets' indexes before issue 17 (besides the primary key and the number's).
OLD_TICKET_INDEXES = (
    "project_id, number",
    "assignee_id, number",
    "status_category, number",
    "requester_id, number",
    "updated_at, number",
    "public_updated_at, number",
)


def switch_off(variant: str) -> dict[str, Any]:
    """Patch this process for ``variant``; return the ``HelpDesk`` keyword arguments."""
    from ticketkit import DeliveryMode
    from ticketkit.adapters.sqlalchemy import groups, unit_of_work

    level = VARIANTS.index(variant)
    if level >= VARIANTS.index("+no-config-reads"):
        for owner, name in (
            (unit_of_work.SqlUnitOfWork, "sla_configuration"),
            (groups.Groups, "serving"),
        ):
            if not callable(getattr(owner, name, None)):
                raise SystemExit(f"{owner.__name__}.{name} is gone: update this experiment")
        unit_of_work.SqlUnitOfWork.sla_configuration = lambda self: ([], [])  # type: ignore[method-assign]
        groups.Groups.serving = lambda self, project_id: []  # type: ignore[method-assign]
    return {"delivery": DeliveryMode.OUTBOX} if level >= 1 else {}


def use_old_indexes(engine: Any) -> None:
    """Replace the tickets' list indexes by the base schema's."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        names = conn.execute(
            sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'ticketkit_tickets' AND name LIKE 'ix_%'"
            )
        ).scalars()
        for name in list(names):
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        for i, columns in enumerate(OLD_TICKET_INDEXES):
            conn.execute(
                sa.text(f"CREATE INDEX ix_old_{i} ON ticketkit_tickets (tenant_id, {columns})")
            )


def measure(variant: str, tickets: int, per_op: int) -> dict[str, float]:
    """The intake figures (tickets/s) of this checkout in ``variant``."""
    spec = importlib.util.spec_from_file_location("this_bench", ROOT / "bench" / "tickets.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    import sqlalchemy as sa

    from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine

    options = switch_off(variant)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_sqlite_engine(Path(tmp) / "bench.sqlite")
        bench.upgrade(engine)
        if VARIANTS.index(variant) >= VARIANTS.index("+old-indexes"):
            use_old_indexes(engine)
        plugins = bench.Plugins.create([bench.COUNTER])
        desk = bench.HelpDesk(SqlStorage(engine), plugins=plugins, **options)
        setup = bench.Setup(desk)
        setup.batched(bench.WARM_UP)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        figures = {
            "batch": setup.batched(tickets),
            "ticket": setup.per_ticket(per_op),
            "call": setup.per_operation(per_op // 4),
        }
        desk.close()
        engine.dispose()
    return figures


def run(command: list[str], src: Path) -> dict[str, float]:
    """One measuring process importing ticketkit from ``src``; its last line is JSON."""
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        [sys.executable, *command], env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", default="6ffe7fd", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--per-op", type=int, default=1_000)
    parser.add_argument("--measure", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = ["--tickets", str(args.tickets), "--per-op", str(args.per_op)]
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.tickets, args.per_op)))
        return 0
    history = str(ROOT / "bench" / "intake_history.py")
    names = [args.base, *VARIANTS]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        add = ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base]
        subprocess.run(add, check=True)
        try:
            for round_ in range(1, args.rounds + 1):
                for name in names:
                    start = time.perf_counter()
                    if name == args.base:
                        figures = run([history, "--measure", str(base), *sizes], base / "src")
                    else:
                        figures = run([__file__, "--measure", name, *sizes], ROOT / "src")
                    runs[name].append(figures)
                    shown = "  ".join(f"{k} {figures[k]:6.0f}" for k in FIGURES)
                    took = time.perf_counter() - start
                    print(f"round {round_}  {name:>16}  {shown}  ({took:.0f} s)", flush=True)
        finally:
            remove = ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)]
            subprocess.run(remove, check=False)
    print(f"\nSQLite, tickets/s, median of {args.rounds} rounds (ratio to {args.base}'s median):")
    for k in FIGURES:
        base_median = statistics.median(r[k] for r in runs[args.base])
        cells = [f"{args.base}: {base_median:5.0f}"]
        for name in VARIANTS:
            median = statistics.median(r[k] for r in runs[name])
            cells.append(f"{name}: {median:5.0f} ({median / base_median:.2f})")
        print(f"{LABELS[k]:31s} " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
