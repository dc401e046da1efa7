"""A private HOME and XDG directories for one test or benchmark run."""

from __future__ import annotations

import os
from pathlib import Path

DROPPED = ("AZURE_", "VOICETYPE_", "XDG_")


def private_dirs(root: Path) -> dict[str, str]:
    """HOME, the XDG base dirs and a 0700 XDG_RUNTIME_DIR under ``root``, created."""
    home = root / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": root / "runtime",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    dirs["XDG_RUNTIME_DIR"].chmod(0o700)
    return {k: str(v) for k, v in dirs.items()}


def private_user_env(root: Path, drop: tuple[str, ...] = DROPPED) -> dict[str, str]:
    """``os.environ`` without variables starting with ``drop`` and without HOME, plus a
    fresh HOME, XDG config/data/state/cache dirs under ``root/home`` and a 0700
    ``root/runtime`` as XDG_RUNTIME_DIR; GTK's accessibility bridge is off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "HOME"}
    env.update(private_dirs(root))
    env["NO_AT_BRIDGE"] = "1"
    return env
