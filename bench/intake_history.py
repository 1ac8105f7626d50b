"""SQLite intake of several revisions of ticketkit, each by its own ``bench/tickets.py``.

Issue 17's intake bar compares this code with the code before the issue. To see which
change moved the figures, this runs the same four intake figures (the Core-insert
yardstick, 1,000 tickets per unit of work, one unit per ticket, one unit per call) for each
revision given, in rounds that alternate the revisions, each run in a fresh process on a
fresh SQLite file, and prints every run, the medians, and two ratios to the first
revision (of the medians, and the median of the rounds' own ratios).

Each revision is checked out into a temporary ``git worktree`` (removed afterwards) and
imported from there, so its own schema, code and bench ``Setup`` are measured (what git
names: uncommitted changes are not). Revisions from 6ffe7fd on carry the ``Setup`` this
relies on.

    python bench/intake_history.py 6ffe7fd 2193a98 fdaaad1 HEAD --rounds 3

Figures, not assertions.
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

FIGURES = ("core", "batch", "ticket", "call")
LABELS = {
    "core": "yardstick, Core bulk inserts",
    "batch": "1,000 tickets per unit of work",
    "ticket": "one unit of work per ticket",
    "call": "one unit of work per call",
}


def measure(root: Path, tickets: int, per_op: int) -> dict[str, float]:
    """The intake figures (tickets/s) of the checkout at ``root``, whose ``src`` is on
    ``sys.path``: its bench's ``Setup`` on a fresh SQLite file, warmed up and analysed as
    ``bench/tickets.py`` does before its own intake step. The steps are repeated here
    because older benches only print their figures."""
    spec = importlib.util.spec_from_file_location("revision_bench", root / "bench" / "tickets.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    import sqlalchemy as sa

    import ticketkit
    from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine

    if not Path(ticketkit.__file__).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"ticketkit was imported from {ticketkit.__file__}, not from {root}")

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_sqlite_engine(Path(tmp) / "bench.sqlite")
        bench.upgrade(engine)
        desk = bench.HelpDesk(SqlStorage(engine), plugins=bench.Plugins.create([bench.COUNTER]))
        setup = bench.Setup(desk)
        setup.batched(bench.WARM_UP)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        figures = {
            "core": setup.core_baseline(engine, tickets),
            "batch": setup.batched(tickets),
            "ticket": setup.per_ticket(per_op),
            "call": setup.per_operation(per_op // 4),
        }
        desk.flush()
        if hasattr(desk, "close"):  # older revisions have no delivery thread to end
            desk.close()
        engine.dispose()
    return figures


def run_revision(checkout: Path, tickets: int, per_op: int) -> dict[str, float]:
    """One run of ``checkout`` in a process of its own, importing ticketkit from there."""
    env = dict(os.environ, PYTHONPATH=str(checkout / "src"))
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            str(checkout),
            "--tickets",
            str(tickets),
            "--per-op",
            str(per_op),
        ],
        env=env,
        check=True,
        stdout=subprocess.PIPE,  # a failing run's traceback goes to the terminal
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def report(revisions: list[str], runs: dict[str, list[dict[str, float]]]) -> None:
    """Per figure, each revision's median and two ratios to the first revision's: of the
    medians, and the median of the rounds' own ratios (a round runs every revision within
    a minute or two, so its ratio carries less of the machine's drift)."""
    base = revisions[0]
    rounds = len(runs[base])
    print(f"\nSQLite, tickets/s, median of {rounds} rounds (ratio of medians to {base}; median")
    print("of the rounds' ratios):")
    for k in FIGURES:
        base_median = statistics.median(r[k] for r in runs[base])
        cells = []
        for rev in revisions:
            median = statistics.median(r[k] for r in runs[rev])
            paired = statistics.median(
                r[k] / b[k] for r, b in zip(runs[rev], runs[base], strict=True)
            )
            cells.append(f"{rev}: {median:6.0f} ({median / base_median:.2f}; {paired:.2f})")
        print(f"{LABELS[k]:31s} " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("revisions", nargs="*", help="git revisions; the first is the base")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--per-op", type=int, default=1_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.tickets, args.per_op)))
        return 0
    if len(args.revisions) < 2 or len(set(args.revisions)) < len(args.revisions):
        parser.error("give at least two different revisions: the base first")
    repo = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, float]]] = {rev: [] for rev in args.revisions}
    with tempfile.TemporaryDirectory() as tmp:
        checkouts: dict[str, Path] = {}
        try:
            for i, rev in enumerate(args.revisions):
                checkouts[rev] = Path(tmp) / f"rev{i}"
                add = ["git", "-C", str(repo), "worktree", "add", "--detach", "-q"]
                subprocess.run([*add, str(checkouts[rev]), rev], check=True)
            for round_ in range(1, args.rounds + 1):
                for rev in args.revisions:
                    start = time.perf_counter()
                    figures = run_revision(checkouts[rev], args.tickets, args.per_op)
                    runs[rev].append(figures)
                    shown = "  ".join(f"{k} {figures[k]:7.0f}" for k in FIGURES)
                    took = time.perf_counter() - start
                    print(f"round {round_}  {rev:>10}  {shown}  ({took:.0f} s)", flush=True)
        finally:
            for path in checkouts.values():
                subprocess.run(
                    ["git", "-C", str(repo), "worktree", "remove", "--force", str(path)],
                    check=False,
                )
    report(args.revisions, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
