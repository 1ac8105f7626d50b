"""A script run in a Python of its own, with only ticketkit on its path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ticketkit


def run_alone(script: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter (nothing the suite configured, only ticketkit
    importable); it must succeed."""
    src = str(Path(ticketkit.__file__).parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src},
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done
