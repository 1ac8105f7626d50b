""".ci/ensure-chromium: CI installs Debian's chromium exactly when none is on PATH.

Run against stand-ins for ``apt-get``, ``sudo`` and ``id`` on a PATH without chromium (the
real apt is never called), so the branch a fresh CI machine takes is tested here too.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / ".ci" / "ensure-chromium"
INSTALL = "apt-get install -y --no-install-recommends chromium"

STANDINS = {
    "id": 'echo "$FAKE_UID"',
    "sudo": 'echo "sudo $*" >> "$CALLS"; exec "$@"',
    # FAKE_APT: "works", "needs update" (install fails until the lists are fetched),
    # "broken" (install always fails), "installs elsewhere" (succeeds, no chromium on PATH)
    "apt-get": """
        echo "apt-get $* (DEBIAN_FRONTEND=$DEBIAN_FRONTEND)" >> "$CALLS"
        if [ "$1" = update ]; then : > "$BIN/.lists"; exit 0; fi
        case "$FAKE_APT" in
          broken) exit 100 ;;
          "needs update") [ -e "$BIN/.lists" ] || exit 100 ;;
          "installs elsewhere") exit 0 ;;
        esac
        printf '#!/bin/sh\\n' > "$BIN/chromium"; chmod +x "$BIN/chromium"
    """,
}


def run_script(
    tmp_path: Path, *, uid: int, apt: str, chromium: bool = False
) -> tuple[int, list[str], str]:
    """The script's exit code, the calls it made, and its stderr."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STANDINS.items():
        stand_in = bin_dir / name
        stand_in.write_text("#!/bin/sh\n" + body, encoding="utf-8")
        stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    for tool in ("env", "chmod"):
        os.symlink(shutil.which(tool) or tool, bin_dir / tool)
    if chromium:
        (bin_dir / "chromium").write_text("#!/bin/sh\n", encoding="utf-8")
        (bin_dir / "chromium").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": str(bin_dir),
        "BIN": str(bin_dir),
        "CALLS": str(calls),
        "FAKE_UID": str(uid),
        "FAKE_APT": apt,
    }
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run(
        [bash, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return done.returncode, calls.read_text(encoding="utf-8").splitlines(), done.stderr


def test_nothing_is_installed_when_chromium_is_on_path(tmp_path: Path) -> None:
    assert run_script(tmp_path, uid=0, apt="works", chromium=True) == (0, [], "")


def test_root_installs_chromium_with_apt_directly(tmp_path: Path) -> None:
    code, calls, _ = run_script(tmp_path, uid=0, apt="works")
    assert (code, calls) == (0, [f"{INSTALL} (DEBIAN_FRONTEND=noninteractive)"])


def test_anyone_else_installs_through_sudo(tmp_path: Path) -> None:
    code, calls, _ = run_script(tmp_path, uid=1000, apt="works")
    assert code == 0
    assert calls == [
        f"sudo env DEBIAN_FRONTEND=noninteractive {INSTALL}",
        f"{INSTALL} (DEBIAN_FRONTEND=noninteractive)",
    ]


def test_package_lists_are_fetched_only_when_the_install_fails_without_them(
    tmp_path: Path,
) -> None:
    code, calls, _ = run_script(tmp_path, uid=0, apt="needs update")
    assert code == 0
    assert calls == [
        f"{INSTALL} (DEBIAN_FRONTEND=noninteractive)",
        "apt-get update (DEBIAN_FRONTEND=)",
        f"{INSTALL} (DEBIAN_FRONTEND=noninteractive)",
    ]


@pytest.mark.parametrize("apt", ["broken", "installs elsewhere"])
def test_the_script_fails_when_no_chromium_comes_of_it(tmp_path: Path, apt: str) -> None:
    code, calls, stderr = run_script(tmp_path, uid=0, apt=apt)
    assert code != 0
    assert calls[0] == f"{INSTALL} (DEBIAN_FRONTEND=noninteractive)"
    if apt == "installs elsewhere":
        assert "chromium is still not on PATH" in stderr
