#!/usr/bin/env bash
# Install the packaged app for the current user (no root): the build, a launcher on PATH, a menu entry with icon.
#
#   packaging/install_linux.sh [BUILD]      # BUILD: dist/bus-classifier (one-folder, default) or the one-file binary
#   packaging/install_linux.sh --uninstall  # remove everything this script installed
#   ~/.local/share/bus-classifier/uninstall.sh   # the same, without the source tree
#
# Places (XDG defaults; override with XDG_DATA_HOME / BIN_DIR):
#   app        ${XDG_DATA_HOME:-~/.local/share}/bus-classifier/
#   launcher   ${BIN_DIR:-~/.local/bin}/bus-classifier  (symlink)
#   menu entry ${XDG_DATA_HOME:-~/.local/share}/applications/bus-classifier.desktop
#   icon       ${XDG_DATA_HOME:-~/.local/share}/icons/hicolor/256x256/apps/bus-classifier.png
set -euo pipefail

APP=bus-classifier
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN_DIR="${BIN_DIR:-$HOME/.local/bin}"
APP_DIR="$DATA_HOME/$APP"
DESKTOP_FILE="$DATA_HOME/applications/$APP.desktop"
ICON_FILE="$DATA_HOME/icons/hicolor/256x256/apps/$APP.png"
LAUNCHER="$BIN_DIR/$APP"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

refresh_menus() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA_HOME/applications" || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA_HOME/icons/hicolor" || true
}

uninstall() {
  # Remove only what install put there: the launcher only if it points into our app folder.
  if [ -L "$LAUNCHER" ] && [ "$(readlink "$LAUNCHER")" = "$APP_DIR/$APP" ]; then
    rm -f "$LAUNCHER"
  fi
  rm -f "$DESKTOP_FILE" "$ICON_FILE"
  rm -rf "$APP_DIR"
  refresh_menus
  echo "Uninstalled $APP."
}

if [ "${1:-}" = "--uninstall" ]; then
  uninstall
  exit 0
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,13p' "$0"
  exit 0
fi

BUILD="${1:-$SCRIPT_DIR/../dist/$APP}"
if [ -d "$BUILD" ]; then
  [ -x "$BUILD/$APP" ] || { echo "error: $BUILD/$APP not found or not executable (build with packaging/build.py)" >&2; exit 1; }
elif [ -f "$BUILD" ]; then
  [ -x "$BUILD" ] || { echo "error: $BUILD is not executable" >&2; exit 1; }
else
  echo "error: no build at $BUILD (run: python packaging/build.py)" >&2
  exit 1
fi

# A fresh copy, replacing any earlier install (settings live in ~/.config and are kept).
rm -rf "$APP_DIR"
mkdir -p "$APP_DIR" "$BIN_DIR" "$(dirname "$DESKTOP_FILE")" "$(dirname "$ICON_FILE")"
if [ -d "$BUILD" ]; then
  cp -a "$BUILD/." "$APP_DIR/"
else
  cp -a "$BUILD" "$APP_DIR/$APP"
fi

ICON_SOURCE=""
for candidate in "$APP_DIR/_internal/assets/icon.png" "$SCRIPT_DIR/../assets/icon.png"; do
  if [ -f "$candidate" ]; then ICON_SOURCE="$candidate"; break; fi
done
if [ -n "$ICON_SOURCE" ]; then
  cp "$ICON_SOURCE" "$ICON_FILE"
fi

ln -sfn "$APP_DIR/$APP" "$LAUNCHER"

cat > "$DESKTOP_FILE" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Breast Ultrasound Classifier
GenericName=Ultrasound image classifier
Comment=Research tool: classifies breast-ultrasound images (benign / malignant / normal). Not a medical device.
Exec="$APP_DIR/$APP" %F
Icon=$ICON_FILE
Terminal=false
Categories=Science;MedicalSoftware;Graphics;
MimeType=image/png;image/jpeg;image/bmp;image/tiff;application/dicom;
StartupWMClass=$APP
DESKTOP
chmod 644 "$DESKTOP_FILE"

# An uninstaller that works without the source tree.
cp "$0" "$APP_DIR/install_linux.sh"
cat > "$APP_DIR/uninstall.sh" <<UNINSTALL
#!/usr/bin/env bash
XDG_DATA_HOME="$DATA_HOME" BIN_DIR="$BIN_DIR" exec bash "$APP_DIR/install_linux.sh" --uninstall
UNINSTALL
chmod +x "$APP_DIR/uninstall.sh"

refresh_menus
echo "Installed $APP in $APP_DIR"
echo "  launcher:   $LAUNCHER$( case ":$PATH:" in *":$BIN_DIR:"*) ;; *) echo " (add $BIN_DIR to PATH)";; esac )"
echo "  menu entry: $DESKTOP_FILE"
echo "  uninstall:  $APP_DIR/uninstall.sh"
