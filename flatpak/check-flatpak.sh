#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# What can be checked of the Flatpak without the network: the manifest
# parses, and `flatpak build-finish` accepts the desktop client installed
# with prefix /app (finish-args, exported desktop file, metainfo, icons).
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

# A build directory as flatpak-builder makes it, filled by meson install.
mkdir -p "$tmp/app/files" "$tmp/app/var"
cat > "$tmp/app/metadata" <<META
[Application]
name=org.supersoniq.Supersoniq
runtime=org.gnome.Platform/x86_64/43
sdk=org.gnome.Sdk/x86_64/43
META
DESTDIR="$tmp/stage" meson install -C "$build" --quiet --skip-subprojects > /dev/null
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
cp -a "$tmp/stage$prefix/." "$tmp/app/files/"
flatpak build-finish "$tmp/app" --command=supersoniq \
  --share=network --share=ipc --socket=fallback-x11 --socket=wayland --device=dri > "$tmp/finish.log"
for f in export/share/applications/org.supersoniq.Supersoniq.desktop \
         export/share/icons/hicolor/scalable/apps/org.supersoniq.Supersoniq.svg \
         export/share/icons/hicolor/symbolic/apps/org.supersoniq.Supersoniq-symbolic.svg; do
  test -e "$tmp/app/$f" || { echo "not exported: $f"; cat "$tmp/finish.log"; exit 1; }
done
test -e "$tmp/app/files/share/metainfo/org.supersoniq.Supersoniq.metainfo.xml"
grep -q 'command=supersoniq' "$tmp/app/metadata"
after=$(listing)
if [ "$before" != "$after" ]; then
  echo "the check left files in $src or $start:"
  echo "$after" | grep -vxF "$before" || true
  exit 1
fi
echo "flatpak: manifest parses; build-finish exported the desktop file and icons; nothing left behind"
