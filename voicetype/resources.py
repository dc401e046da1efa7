"""Files shipped with voicetype (icons, sounds, the starter config).

In a wheel they live in ``voicetype/assets/`` (hatch copies the top-level ``assets/`` and
``config.example.toml`` there); in a source checkout or editable install they are read
from the checkout's top level. Never relative to the working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def asset_path(name: str) -> Path:
    """The path of a shipped file; raises FileNotFoundError when it is missing."""
    packaged = resources.files("voicetype").joinpath("assets").joinpath(name)
    if packaged.is_file():
        return Path(str(packaged))
    for candidate in (_CHECKOUT / "assets" / name, _CHECKOUT / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"voicetype is missing its file {name!r}; reinstall voicetype")


def read_text(name: str) -> str:
    return asset_path(name).read_text(encoding="utf-8")
