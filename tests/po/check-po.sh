#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The translations are complete: every file with user-visible strings is in
# POTFILES.in, the catalogs compile, and each holds every current string
# translated (none missing, none fuzzy).
set -eu
src="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"

# Files that mark strings but are not listed.
grep -lE '_\("|N_\("|g_dngettext|ngettext|translatable="yes"' \
  client-gtk/*.c client-gtk/*.ui client-gtk/gtk/*.ui client-tui/*.c shared/*.c shared/cli/*.c \
  server/*.c server/net/*.c server/broker/*.c server/amqp/*.c 2>/dev/null |
  sort > "$tmp/marked"
grep -v '^#' po/POTFILES.in | sed '/^$/d' | sort > "$tmp/listed"
missing=$(comm -23 "$tmp/marked" "$tmp/listed")
if [ -n "$missing" ]; then
  echo "not in po/POTFILES.in: $missing"
  exit 1
fi

# The template as it is now, from the sources.
grep -v '^#' po/POTFILES.in | sed '/^$/d' > "$tmp/files"
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
  --keyword=g_dngettext:2,3 --flag=N_:1:pass-c-format --flag=_:1:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --its=/usr/share/gettext/its/glib2.its -f "$tmp/files" -o "$tmp/now.pot" 2>/dev/null ||
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
  --keyword=g_dngettext:2,3 -f "$tmp/files" -o "$tmp/now.pot"

for lang in $(cat po/LINGUAS); do
  msgfmt --check -o "$tmp/$lang.mo" "po/$lang.po"
  msgmerge --quiet --no-fuzzy-matching -o "$tmp/$lang.po" "po/$lang.po" "$tmp/now.pot"
  stats=$(msgfmt --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) echo "$lang is not complete"; exit 1 ;;
  esac
done
