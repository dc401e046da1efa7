#!/usr/bin/env bash
# Install voicetype for the current user from this checkout, then start it.
#
# - Debian/Ubuntu packages it needs (with sudo when not root): the Speech SDK's libraries,
#   PyGObject + GTK + AppIndicator for the tray menu, python3-venv.
# - A virtual environment in ${XDG_DATA_HOME:-~/.local/share}/voicetype/venv made from the
#   system python3 with --system-site-packages, so the distro's PyGObject (python3-gi) is
#   visible (system pip refuses installs: PEP 668), and voicetype installed into it.
# - ~/.local/bin/voicetype linked to it; then the daemon is started in the background.
# Set VOICETYPE_NO_START=1 to install without starting. The last line says what to do next
# (add the key, or the region, or just press the hotkey).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# name, or "a|b" where either package satisfies (Ubuntu 24.04 renamed some with t64).
WANTED=(
  python3 python3-venv python3-gi gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1
  "libssl3|libssl3t64" libuuid1 "libasound2|libasound2t64" ca-certificates
  x11-xkb-utils xdg-utils pulseaudio-utils libportaudio2
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for spec in "${WANTED[@]}"; do
  ok=0
  IFS='|' read -ra alternatives <<<"$spec"
  for p in "${alternatives[@]}"; do if installed "$p"; then ok=1; fi; done
  if [ "$ok" -eq 0 ]; then
    # pick the first alternative the archive knows
    for p in "${alternatives[@]}"; do
      if apt-cache show "$p" >/dev/null 2>&1; then missing+=("$p"); ok=1; break; fi
    done
    [ "$ok" -eq 1 ] || missing+=("${alternatives[0]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "voicetype: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
VENV="$DATA_HOME/voicetype/venv"
BIN="$HOME/.local/bin"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import gi' 2>/dev/null; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade .
mkdir -p "$BIN"
ln -sf "$VENV/bin/voicetype" "$BIN/voicetype"
scripts/install-desktop-entry.sh "$BIN/voicetype"  # the app id the desktop portal asks for
echo "voicetype: installed $("$BIN/voicetype" --version) as $BIN/voicetype"
case ":$PATH:" in
  *":$BIN:"*) ;;
  *) echo "voicetype: note: $BIN is not on your PATH; log out and in again (Debian/Ubuntu add it at login) or use $BIN/voicetype" ;;
esac

# The next step for this user, from what `voicetype config check` sees: the key hint only
# when there is no key, the region hint only when neither region nor host is set.
next_step() {
  local check hotkey
  if ! check=$("$BIN/voicetype" config check 2>&1); then
    echo "voicetype: your configuration needs a fix first:"
    echo "$check"
    return
  fi
  if grep -q '^key: *(not set)' <<<"$check"; then
    echo "voicetype: no key yet: run \`voicetype config init\`, set key and region (or host) in the file it names, then \`voicetype reload\`"
  elif grep -q '^region: *(not set)' <<<"$check" && grep -q '^host: *(Azure cloud)' <<<"$check"; then
    echo "voicetype: the key is set but no region: set region in $("$BIN/voicetype" config path), then \`voicetype reload\`"
  else
    hotkey=$(sed -n 's/^hotkey: *//p' <<<"$check")
    echo "voicetype: your key is set: press ${hotkey:-the hotkey} in any window and speak."
  fi
}

if [ "${VOICETYPE_NO_START:-0}" = "1" ]; then next_step; exit 0; fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "voicetype: no desktop session here (DISPLAY is unset); start it from your desktop with: voicetype"
  next_step
  exit 0
fi
if "$BIN/voicetype" status >/dev/null 2>&1; then  # an older voicetype runs: replace it
  "$BIN/voicetype" quit >/dev/null 2>&1 || true
  for _ in $(seq 50); do "$BIN/voicetype" status >/dev/null 2>&1 || break; sleep 0.1; done
fi
setsid "$BIN/voicetype" >/dev/null 2>&1 </dev/null &
echo "voicetype: started. Look for the microphone icon in the tray."
next_step
