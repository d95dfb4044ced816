#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# What can be checked of the Flatpak without the network: the manifest
# parses and follows Flathub's conventions that a file shows, and
# `flatpak build-finish` accepts the desktop client installed (finish-args,
# exported desktop file, D-Bus service, metainfo, icons).
# meson install builds what the tests did not need (the programs, the
# translations) first.
set -eu
src="$1"
build="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# flatpak-builder keeps its state in .flatpak-builder/ under the working
# directory: it goes to $tmp, and the test fails if anything lands in the
# source tree or the directory the test was started from.
start=$(pwd)
listing() { { ls -A "$src"; ls -A "$start"; } | sort; }
before=$(listing)
cd "$tmp"

flatpak-builder --show-manifest "$src/flatpak/org.supersoniq.Supersoniq.json" > "$tmp/manifest.json"
grep -q '"id" : "org.supersoniq.Supersoniq"' "$tmp/manifest.json"

# Flathub's conventions, as far as a file can show them: a GNOME runtime
# still supported (48 ended in March 2026; a runtime lives about a year),
# every source fetched from elsewhere pinned by commit or checksum (the
# app's own tree is the one "dir" source), no module the GNOME runtime
# already ships, and no permission beyond what the app uses (files come
# through the file chooser portal, notifications and secrets through
# their portals too).
python3 - "$tmp/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
problems = []
if m.get("runtime") != "org.gnome.Platform" or int(m.get("runtime-version", "0")) < 50:
    problems.append("runtime %s//%s is not a supported GNOME runtime" % (m.get("runtime"), m.get("runtime-version")))
in_runtime = {"glib", "gtk", "gtk4", "libadwaita", "libsoup", "json-glib", "libsecret", "gdk-pixbuf", "sqlite",
              "libnotify"}
def modules(ms):
    for mod in ms:
        if isinstance(mod, dict):
            yield mod
            yield from modules(mod.get("modules", []))
for mod in modules(m.get("modules", [])):
    if mod["name"] in in_runtime:
        problems.append("module %s: the GNOME runtime ships it" % mod["name"])
    for src in mod.get("sources", []):
        if src.get("type") == "dir":
            continue
        if not ("commit" in src or "sha256" in src):
            problems.append("module %s: a source not pinned by commit or sha256: %s" % (mod["name"], src))
allowed = {"--share=network", "--share=ipc", "--socket=fallback-x11", "--socket=wayland", "--device=dri"}
for arg in m.get("finish-args", []):
    if arg not in allowed:
        problems.append("finish-arg %s: not needed (files, notifications and secrets go through portals)" % arg)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY

# A build directory as flatpak-builder makes it, filled by meson install.
mkdir -p "$tmp/app/files" "$tmp/app/var"
cat > "$tmp/app/metadata" <<META
[Application]
name=org.supersoniq.Supersoniq
runtime=org.gnome.Platform/x86_64/50
sdk=org.gnome.Sdk/x86_64/50
META
DESTDIR="$tmp/stage" meson install -C "$build" --quiet --skip-subprojects > /dev/null
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
cp -a "$tmp/stage$prefix/." "$tmp/app/files/"
flatpak build-finish "$tmp/app" --command=supersoniq \
  --share=network --share=ipc --socket=fallback-x11 --socket=wayland --device=dri > "$tmp/finish.log"
for f in export/share/applications/org.supersoniq.Supersoniq.desktop \
         export/share/dbus-1/services/org.supersoniq.Supersoniq.service \
         export/share/icons/hicolor/scalable/apps/org.supersoniq.Supersoniq.svg \
         export/share/icons/hicolor/symbolic/apps/org.supersoniq.Supersoniq-symbolic.svg; do
  test -e "$tmp/app/$f" || { echo "not exported: $f"; cat "$tmp/finish.log"; exit 1; }
done
test -e "$tmp/app/files/share/metainfo/org.supersoniq.Supersoniq.metainfo.xml"
grep -q 'command=supersoniq' "$tmp/app/metadata"
# D-Bus starts the app as a service (a notification's click with the app
# not running); flatpak exports the file under the app's own bus name and
# rewrites its Exec into a `flatpak run` of it when it installs the app.
service="$tmp/app/export/share/dbus-1/services/org.supersoniq.Supersoniq.service"
grep -qx 'Name=org.supersoniq.Supersoniq' "$service" &&
  grep -q '^Exec=[^ ]*/supersoniq --gapplication-service$' "$service" || { cat "$service"; exit 1; }
after=$(listing)
if [ "$before" != "$after" ]; then
  echo "the check left files in $src or $start:"
  echo "$after" | grep -vxF "$before" || true
  exit 1
fi
echo "flatpak: manifest parses and follows the conventions checked; build-finish exported the desktop file, D-Bus service and icons; nothing left behind"
