"""Which Chromium the browser tests drive and how it is started, without importing Playwright.

Kept apart from the fixtures so the report header (tests/conftest.py) can name the
versions at start-up for the price of one ``chromium --version``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_COMMAND = "apt-get install -y --no-install-recommends chromium"
# Playwright's own flags already keep most traffic off; these make sure nothing reaches
# for Google's services on a machine without a way out.
OFFLINE_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def in_ci() -> bool:
    """Whether this run is CI's, where a missing browser fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def executable() -> Path:
    """``TICKETKIT_CHROMIUM`` when set, else Debian's ``/usr/bin/chromium``, else the
    ``chromium`` on ``PATH`` (the one ``.ci/ensure-chromium`` looks for); it may not exist."""
    chosen = os.environ.get("TICKETKIT_CHROMIUM")
    if chosen:
        return Path(chosen)
    if Path(DEBIAN_CHROMIUM).exists():
        return Path(DEBIAN_CHROMIUM)
    found = shutil.which("chromium")
    return Path(found) if found else Path(DEBIAN_CHROMIUM)


def missing_message(path: Path) -> str | None:
    """Why ``path`` cannot be the browser (naming the ways to fix it), or None when it can."""
    if os.access(path, os.X_OK) and path.is_file():
        return None
    return (
        f"no Chromium executable at {path}: install Debian's with "
        f"`{INSTALL_COMMAND}` or point TICKETKIT_CHROMIUM at a Chromium executable"
    )


def launch_args() -> list[str]:
    """Command-line flags for the browser: offline, and unsandboxed when run as root
    (Chromium refuses its sandbox to root)."""
    args = list(OFFLINE_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def launch_env(home: Path) -> dict[str, str | float | bool]:
    """The browser's environment: ours, with its configuration and cache under ``home``,
    so no profile, crash report or cache lands in the user's own directories."""
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }


def version_line(path: Path) -> str:
    """What ``path --version`` says (Debian's wrapper script also talks on stderr; ignored)."""
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"version unknown ({exc.__class__.__name__})"
    return done.stdout.strip() or f"version unknown (exit {done.returncode})"


def report_header() -> str:
    """One line for pytest's header: the Chromium the browser tests would drive, and
    Playwright's version."""
    try:
        playwright = f"Playwright {metadata.version('playwright')}"
    except metadata.PackageNotFoundError:
        playwright = "Playwright not installed"
    path = executable()
    problem = missing_message(path)
    chromium = problem if problem else f"{version_line(path)} ({path})"
    return f"browser tests: {chromium}; {playwright}"
