"""Typing through the real RemoteDesktop portal of a headless GNOME (mutter 43 +
xdg-desktop-portal-gnome 43) into a GTK3 Wayland window: the consent dialog answered,
ASCII typed, text outside the layout pasted exactly (GNOME 43's portal drops such
keysyms), the whole corpus exact (each text its own paste: the clipboard is given back
only after the window fetched the text), the user's clipboard back afterwards, line
breaks as spaces."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness.corpus import CORPUS
from harness.wl_desktop import SETPRIV, Mutter

from voicetype.insertion.wayland_vk import for_window

pytestmark = pytest.mark.desktop

TESTS_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(TESTS_DIR.parent / ".venv" / "bin" / "python")


def test_gnome_portal_after_consent_types_and_pastes_exactly(
    mutter: Mutter, artifacts: Path
) -> None:
    env = {**mutter.client_env, "PYTHONPATH": str(TESTS_DIR)}
    subprocess.run([*SETPRIV, "wl-copy"], input="SENTINEL", text=True, env=env, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
    texts = ["Hello, World! ~`!@#$%^&*()_+-=[]{}|;:'\",.<>/?", " Grüße 5 € 日本語 👩‍💻 🇫🇷", " a\nb"]
    texts += [t for t in CORPUS if t.strip()]  # the whole corpus, each text its own insert
    client = subprocess.Popen(
        [*SETPRIV, PYTHON, "-m", "harness.portal_client", str(mutter.workdir / "state")],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    window = None
    try:
        client.stdin.write(json.dumps(texts) + "\n")
        client.stdin.flush()
        mutter.consent()
        assert client.stdout.readline().strip() == "ready"
        window = mutter.gtk_window()
        client.stdin.write("go\n")
        client.stdin.close()
        results = json.loads(client.stdout.readline())
        assert all(isinstance(r, list) for r in results), (
            len(results),
            results[-2:],
            window.content()[-80:],
        )
        assert [r[0] for r in results[:3]] == ["typed", "pasted", "typed"], results
        window.wait_for_text("".join(for_window(t, terminal=True) for t in texts), timeout=60)
        clipboard = subprocess.run([*SETPRIV, "wl-paste", "-n"], env=env, capture_output=True,
                                   text=True, timeout=10, check=False)  # fmt: skip
        assert clipboard.stdout == "SENTINEL"
        line = "GNOME 43 RemoteDesktop portal: " + ", ".join(
            f"{m} {len(t)} chars in {s:.2f} s"
            for t, (m, s, _) in zip(texts[:3], results[:3], strict=True)
        )
        pasted = [r for r in results[3:] if r[0] == "pasted"]
        line += (
            f"; corpus: {len(texts) - 3} of {len(texts) - 3} texts exact, {len(pasted)} pasted"
            f" ({sum(r[1] for r in pasted):.2f} s, wl-copy starts {sum(r[2] for r in pasted)})"
        )
        print(line)
        (artifacts / "wayland_gnome_portal.txt").write_text(line + "\n")
    finally:
        client.kill()
        client.wait(5)
        if window is not None:
            window.close()
