#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The install tree: `meson install --destdir` of this build holds every
# program (each answering --version from where it is installed), the units
# under their documented names with the binary and configuration they name,
# the desktop app's files with their post-install steps, man pages,
# completions and translations. Then a -Dserver=false configuration of the
# same source (configured only: building it would cost minutes) installs no
# server file, by `meson introspect --installed`.
set -u
meson=$1 build=$2 src=$3 version=$4 prefix=$5 sysconfdir=$6 have_gtk=$7 have_tui=$8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok () { echo "ok: $*"; }
fail () { echo "not ok: $*"; failures=$((failures + 1)); }
# A path of the install tree, as the installed system sees it.
in_tree () { [ -e "$tmp/root$1" ]; }
has () { if in_tree "$prefix/$1"; then ok "$1"; else fail "$1 is not installed"; fi; }

unset DESTDIR
if ! "$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "meson install failed"
  exit 1
fi
(cd "$tmp/root" && find . -type f | sort)

programs="supersoniq-cli supersoniq-server"
[ "$have_tui" = true ] && programs="$programs supersoniq-tui"
[ "$have_gtk" = true ] && programs="$programs supersoniq"
for program in $programs; do
  has "bin/$program"
  has "share/man/man1/$program.1"
  [ "$program" = supersoniq ] || has "share/bash-completion/completions/$program"
  # Installed, it runs and says what it is; the desktop app without a display.
  out=$(env -u DISPLAY -u WAYLAND_DISPLAY LC_ALL=C "$tmp/root$prefix/bin/$program" --version 2>&1)
  case "$out" in
    "$program $version"*) ok "$program --version: $out" ;;
    *) fail "$program --version said: $out" ;;
  esac
done
if [ "$have_tui" = true ]; then
  help=$(LC_ALL=C "$tmp/root$prefix/bin/supersoniq-tui" --help 2>&1)
  case "$help" in
    *Keys:*Ctrl-C*tui.ini*) ok "supersoniq-tui --help names its keys and tui.ini" ;;
    *) fail "supersoniq-tui --help lacks its keys or tui.ini: $help" ;;
  esac
fi
has "share/locale/de/LC_MESSAGES/supersoniq.mo"

# The units: named as the docs say, each naming a binary and a
# configuration that the same install put there.
for unit in lib/systemd/system/supersoniq-server.service lib/systemd/user/supersoniq-server.service; do
  has "$unit"
  in_tree "$prefix/$unit" || continue
  file="$tmp/root$prefix/$unit"
  exec_start=$(sed -n 's/^ExecStart=//p' "$file")
  binary=${exec_start%% *}
  if in_tree "$binary"; then ok "$unit runs $binary"; else fail "$unit runs $binary, not installed"; fi
  config=$(echo "$exec_start" | sed -n 's/.*--config \([^ ]*\).*/\1/p')
  if [ -n "$config" ]; then
    if in_tree "$config"; then ok "$unit reads $config"; else fail "$unit reads $config, not installed"; fi
  fi
  for line in Type=notify LimitNOFILE=65536 WatchdogSec=30; do
    if grep -qx "$line" "$file"; then ok "$unit: $line"; else fail "$unit lacks $line"; fi
  done
done
grep -q 'systemctl --user enable --now supersoniq-server$' "$tmp/root$prefix/lib/systemd/user/supersoniq-server.service" &&
  ok "the user unit's comment names it as installed" || fail "the user unit's comment names another unit"
case "$sysconfdir" in /*) etc=$sysconfdir ;; *) etc=$prefix/$sysconfdir ;; esac
if in_tree "$etc/supersoniq/server.conf"; then ok "$etc/supersoniq/server.conf"; else fail "no $etc/supersoniq/server.conf"; fi

if [ "$have_gtk" = true ]; then
  for file in share/glib-2.0/schemas/org.supersoniq.Supersoniq.gschema.xml \
              share/applications/org.supersoniq.Supersoniq.desktop \
              share/metainfo/org.supersoniq.Supersoniq.metainfo.xml \
              share/icons/hicolor/scalable/apps/org.supersoniq.Supersoniq.svg \
              share/icons/hicolor/symbolic/apps/org.supersoniq.Supersoniq-symbolic.svg; do
    has "$file"
  done
  if glib-compile-schemas --strict --targetdir "$tmp" "$tmp/root$prefix/share/glib-2.0/schemas"; then
    ok "the installed schemas compile"
  else
    fail "the installed schemas do not compile"
  fi
  # DESTDIR skips the post-install steps (packages have triggers for them):
  # a dry run without it shows them, running nothing.
  "$meson" install -C "$build" --no-rebuild --dry-run >"$tmp/dry-run.log" 2>&1
  for step in glib-compile-schemas gtk-update-icon-cache update-desktop-database; do
    if grep -q "Running custom install script .*$step" "$tmp/dry-run.log"; then
      ok "post-install: $step"
    else
      fail "no post-install $step"
    fi
  done
fi

# The Flatpak's configuration: no server, so no server file.
start=$(date +%s%N)
if ! "$meson" setup "$tmp/no-server" "$src" -Dserver=false --prefix "$prefix" >"$tmp/setup.log" 2>&1; then
  cat "$tmp/setup.log"
  fail "meson setup -Dserver=false failed"
else
  "$meson" introspect "$tmp/no-server" --installed >"$tmp/installed.json"
  echo "-Dserver=false configured and introspected in $((($(date +%s%N) - start) / 1000000)) ms"
  grep -q 'bin/supersoniq-cli"' "$tmp/installed.json" || fail "introspection lists no supersoniq-cli: $(cat "$tmp/installed.json")"
  server_files=$(tr ',' '\n' <"$tmp/installed.json" | grep -E 'supersoniq-server|systemd|server\.conf' || true)
  if [ -z "$server_files" ]; then ok "-Dserver=false installs no server file"; else fail "-Dserver=false installs $server_files"; fi
fi

echo "$failures failed"
[ "$failures" = 0 ]
