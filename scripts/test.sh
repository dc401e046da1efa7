#!/usr/bin/env bash
# Run voicetype's whole test suite: installs what the tests need (Debian packages with
# apt-get, Python packages into ./.venv), then lint, type checks and pytest.
# Usage: scripts/test.sh [pytest arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # runtime: Speech SDK libraries, the tray's GTK/AppIndicator bindings, python venv
  libssl3 libuuid1 ca-certificates python3 python3-venv python3-dev python3-gi python3-tk
  gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 xclip x11-xkb-utils libasound2 xdg-utils
  # the headless desktop the tests drive
  xvfb openbox trayer xdotool x11-utils x11-xserver-utils imagemagick dbus dunst dex desktop-file-utils
  # audio: PulseAudio virtual microphone and speech WAVs
  pulseaudio pulseaudio-utils espeak-ng sox libportaudio2
  # real applications for tests/apps (the compatibility matrix), fonts so they render text
  xterm rxvt-unicode xfce4-terminal emacs-gtk mousepad gnome-text-editor kwrite
  libreoffice-writer libreoffice-gtk3 firefox-esr chromium fonts-noto-color-emoji fonts-noto-cjk
  # the text before the caret (AT-SPI)
  gir1.2-atspi-2.0 at-spi2-core
  # Wayland: headless sway with native windows, wtype (typing fallback), clipboard, screenshots
  sway foot wtype wl-clipboard grim
  # Wayland: headless KDE (KWin + its RemoteDesktop/GlobalShortcuts portal)
  kwin-wayland xdg-desktop-portal xdg-desktop-portal-kde qtwayland5
  # Wayland: headless GNOME (mutter + its portal; the consent dialog answered via AT-SPI)
  mutter xdg-desktop-portal-gnome
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's python3 with its site packages visible, so PyGObject (python3-gi) is importable.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import gi' 2>/dev/null; then
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
