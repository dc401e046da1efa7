#!/usr/bin/env bash
# Install assets/io.github.voicetype.desktop as the user's application entry, its Exec
# pointing at the voicetype command given as $1 (an absolute path).
#
# The entry's name is voicetype's app id: xdg-desktop-portal 1.20.1 and newer refuse
# `org.freedesktop.host.portal.Registry.Register("io.github.voicetype")` ("App info not
# found") unless ${XDG_DATA_HOME:-~/.local/share}/applications (or a system data dir)
# holds io.github.voicetype.desktop whose Exec program exists; without registration the
# GlobalShortcuts portal cannot name the app. Older portals ignore it.
set -euo pipefail
command="$1"
case "$command" in /*) ;; *) echo "install-desktop-entry.sh: $command is not an absolute path" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
case "$command" in *[\\\"\`\$\&\|%]*)
  echo "install-desktop-entry.sh: $command has characters a desktop entry would need escaped; skipped" >&2
  exit 0 ;;
esac
sed "s|^Exec=voicetype |Exec=\"$command\" |" assets/io.github.voicetype.desktop >"$apps/io.github.voicetype.desktop.tmp"
mv "$apps/io.github.voicetype.desktop.tmp" "$apps/io.github.voicetype.desktop"
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$apps" 2>/dev/null || true
fi
