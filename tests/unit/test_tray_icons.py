"""The per-state icons: distinct (also without colour), legible at tray sizes, shipped."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from voicetype.icons import DEFAULT_SIZE, file_name, icon_image, write_pngs
from voicetype.state import State

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "icons"


def _on(background: tuple[int, int, int], image: Image.Image) -> Image.Image:
    flat = Image.new("RGBA", image.size, (*background, 255))
    flat.alpha_composite(image)
    return flat.convert("RGB")


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / len(a.getbands())


@pytest.mark.parametrize("size", [22, 24])
@pytest.mark.parametrize("background", [(40, 40, 40), (230, 230, 230)])
def test_every_pair_of_states_differs_at_tray_size_even_in_greyscale(
    size: int, background: tuple[int, int, int]
) -> None:
    # greyscale stands in for colour-blind sight: the states must differ by shape/lightness
    for a, b in itertools.combinations(State, 2):
        grey_a = _on(background, icon_image(a, size)).convert("L")
        grey_b = _on(background, icon_image(b, size)).convert("L")
        assert _mean_difference(grey_a, grey_b) > 8, f"{a} and {b} look alike at {size} px"


@pytest.mark.parametrize("state", list(State))
def test_icon_stands_out_from_light_and_dark_panels(state: State) -> None:
    for background in ((40, 40, 40), (230, 230, 230)):
        icon = _on(background, icon_image(state, 22))
        panel = Image.new("RGB", icon.size, background)
        assert _mean_difference(icon, panel) > 20, f"{state} vanishes on {background}"


def test_icons_are_cached_rgba_and_sized() -> None:
    image = icon_image(State.IDLE, 22)
    assert image is icon_image(State.IDLE, 22)
    assert image.mode == "RGBA" and image.size == (22, 22)
    assert icon_image(State.ERROR).size == (DEFAULT_SIZE, DEFAULT_SIZE)
    with pytest.raises(ValueError):
        icon_image(State.IDLE, 4)


@pytest.mark.parametrize("state", list(State))
def test_shipped_pngs_match_the_drawing_code(state: State) -> None:
    # regenerate with: python -m voicetype.icons
    with Image.open(ASSETS / file_name(state)) as shipped:
        assert shipped.size == (DEFAULT_SIZE, DEFAULT_SIZE)
        diff = _mean_difference(shipped.convert("RGBA"), icon_image(state, DEFAULT_SIZE))
    assert diff < 1.0, f"assets/icons/{file_name(state)} is stale; run python -m voicetype.icons"


def test_write_pngs_writes_each_state_and_the_app_icon(tmp_path: Path) -> None:
    written = write_pngs(tmp_path)
    assert {p.name for p in written} == {file_name(s) for s in State} | {"voicetype.png"}
    with Image.open(tmp_path / "voicetype.png") as app:
        assert app.size == (256, 256)
