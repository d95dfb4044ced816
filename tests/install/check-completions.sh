#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The bash completions, sourced into bash as bash-completion would, answer
# a few command lines as they should. Arguments: the completion files.
set -u
for file in "$@"; do
  # shellcheck disable=SC1090
  source "$file" || { echo "cannot source $file"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/backups" "$tmp/data"
touch "$tmp/server.conf"
cd "$tmp" || exit 1

failures=0
# expect 'COMMAND LINE' 'EXPECTED WORDS': the words the function offers for
# the last word of the line (an empty last word when the line ends in a
# space), sorted and joined by spaces.
expect ()
{
  local line=$1 expected=$2 got
  # As bash splits them (COMP_WORDBREAKS): at blanks, and around ':' and '='.
  read -r -a COMP_WORDS <<< "$(sed 's/\([:=]\)/ \1 /g' <<< "$line")"
  [[ $line == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  local function
  function=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')
  if [[ -z $function ]]; then
    echo "not ok: no completion for ${COMP_WORDS[0]}"
    failures=$((failures + 1))
    return
  fi
  "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
  if [[ $got == "$expected" ]]; then
    echo "ok: '$line' -> '$got'"
  else
    echo "not ok: '$line' -> '$got', expected '$expected'"
    failures=$((failures + 1))
  fi
}

if complete -p supersoniq-cli >/dev/null 2>&1; then
  expect 'supersoniq-cli se' 'search send'
  expect 'supersoniq-cli --user alice h' 'history'
  expect 'supersoniq-cli --server http://127.0.0.1:8080 --user=alice h' 'history'
  expect 'supersoniq-cli --json --server http://x:8080 ' 'conversations dm download group history login logout outbox register search send tail'
  expect 'supersoniq-cli send bob --fi' '--file'
  expect 'supersoniq-cli send bob --file ser' 'server.conf'
  expect 'supersoniq-cli --data-dir ' 'backups data'
  expect 'supersoniq-cli history alice ' ''
  expect 'supersoniq-cli --v' '--version'
fi
if complete -p supersoniq-tui >/dev/null 2>&1; then
  expect 'supersoniq-tui --' '--data-dir --help --logout --server --user --version'
  expect 'supersoniq-tui --data-dir d' 'data'
fi
if complete -p supersoniq-server >/dev/null 2>&1; then
  expect 'supersoniq-server ' 'admin backup migrate restore'
  expect 'supersoniq-server --config server.conf re' 'restore'
  expect 'supersoniq-server --listen 127.0.0.1:8080 --data-dir=data a' 'admin'
  expect 'supersoniq-server --config s' 'server.conf'
  expect 'supersoniq-server backup b' 'backups'
  expect 'supersoniq-server migrate --' '--config --data-dir --help --listen --to --version'
  expect 'supersoniq-server --l' '--listen'
fi
echo "$failures failed"
[[ $failures == 0 ]]
