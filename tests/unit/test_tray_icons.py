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


def _changed_pixels(a: Image.Image, b: Image.Image) -> int:
    """How many pixels differ clearly (by more than a quarter of the grey range)."""
    difference = ImageChops.difference(a.convert("L"), b.convert("L"))
    return sum(difference.histogram()[65:])


@pytest.mark.parametrize("size", [22, 24])
def test_listening_level_steps_differ_at_tray_size_and_the_full_one_is_plain(size: int) -> None:
    from voicetype.icons import LEVEL_STEPS

    steps = range(LEVEL_STEPS + 1)
    looks = [_on((40, 40, 40), icon_image(State.LISTENING, size, s)) for s in steps]
    for a in steps[:-1]:
        assert _changed_pixels(looks[a], looks[a + 1]) >= 3, f"steps {a} and {a + 1} look alike"
    # silence (an empty microphone) against loud speech (a full one): seen at a glance
    assert _changed_pixels(looks[0], looks[LEVEL_STEPS]) >= 25
    plain = _on((40, 40, 40), icon_image(State.LISTENING, size))
    assert _changed_pixels(looks[LEVEL_STEPS], plain) == 0
    with pytest.raises(ValueError):
        icon_image(State.IDLE, size, 2)  # a level only while listening
    with pytest.raises(ValueError):
        icon_image(State.LISTENING, size, LEVEL_STEPS + 1)
