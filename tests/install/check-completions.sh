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
  expect 'supersoniq-cli --json --server http://x:8080 ' 'conversations discover dm download export forget-server group history invite join login logout outbox queue register reset-password search send tail'
  expect 'supersoniq-cli invite ' 'create list revoke'
  expect 'supersoniq-cli queue ' 'consume declare delete get list publish purge'
  expect 'supersoniq-cli queue p' 'publish purge'
  expect 'supersoniq-cli queue publish jobs --h' '--header --help'
  expect 'supersoniq-cli queue get jobs --' '--count --data-dir --help --insecure --json --server --timeout --trust --user --wait'
  expect 'supersoniq-cli queue declare jobs --t' '--timeout --transient --trust'
  expect 'supersoniq-cli invite create --u' '--user --uses'
  expect 'supersoniq-cli res' 'reset-password'
  expect 'supersoniq-cli discover --' '--help --json --timeout'
  expect 'supersoniq-cli e' 'export'
  expect 'supersoniq-cli send bob --fi' '--file'
  expect 'supersoniq-cli send bob --file ser' 'server.conf'
  expect 'supersoniq-cli --data-dir ' 'backups data'
  expect 'supersoniq-cli --data-dir=d' 'data'
  expect 'supersoniq-cli history alice ' ''
  expect 'supersoniq-cli --v' '--version'
  expect 'supersoniq-cli export --' '--data-dir --help --insecure --json --media --output --server --timeout --trust --user'
  expect 'supersoniq-cli export --media ' 'backups data'
  expect 'supersoniq-cli export --media=b' 'backups'
  expect 'supersoniq-cli export -o ser' 'server.conf'
  expect 'supersoniq-cli --user alice export --output=s' 'server.conf'
  expect 'supersoniq-cli download x --o' '--output'
  expect 'supersoniq-cli reset-password alice --p' '--password-file'
fi
if complete -p supersoniq-tui >/dev/null 2>&1; then
  expect 'supersoniq-tui --' '--data-dir --help --insecure --invite --logout --server --trust --user --version'
  expect 'supersoniq-tui --data-dir d' 'data'
fi
if complete -p supersoniq-server >/dev/null 2>&1; then
  expect 'supersoniq-server ' 'admin backup migrate restore'
  expect 'supersoniq-server re' 'restore'
  # A command only as the first argument, as main.c takes it.
  expect 'supersoniq-server --config server.conf re' ''
  expect 'supersoniq-server --listen 127.0.0.1:8080 --data-dir=data a' ''
  expect 'supersoniq-server --config s' 'server.conf'
  expect 'supersoniq-server --config=s' 'server.conf'
  expect 'supersoniq-server --l' '--listen'
  expect 'supersoniq-server admin ' 'conversations invites sessions stats users'
  expect 'supersoniq-server admin invites ' 'create list revoke'
  expect 'supersoniq-server admin --data-dir data --json u' 'users'
  expect 'supersoniq-server admin users ' 'create delete demote disable enable list promote reset-password show'
  expect 'supersoniq-server admin --json users re' 'reset-password'
  expect 'supersoniq-server admin conversations ' 'list set-role show transfer'
  expect 'supersoniq-server admin sessions ' 'list revoke'
  expect 'supersoniq-server admin stats ' ''
  expect 'supersoniq-server admin users show ' ''
  expect 'supersoniq-server admin conversations set-role c1 bob ' 'admin member'
  expect 'supersoniq-server admin --' '--config --data-dir --expires --help --json --password-stdin --timeout --user --uses'
  expect 'supersoniq-server admin --data-dir d' 'data'
  expect 'supersoniq-server admin --config=s' 'server.conf'
  expect 'supersoniq-server admin sessions revoke --user ' ''
  expect 'supersoniq-server backup b' 'backups'
  expect 'supersoniq-server backup --' '--config --data-dir --help --into --keep'
  expect 'supersoniq-server backup --into ' 'backups data'
  expect 'supersoniq-server backup --into backups --keep ' ''
  expect 'supersoniq-server backup --into backups --k' '--keep'
  expect 'supersoniq-server restore --' '--config --data-dir --help --skip-damaged-media'
  expect 'supersoniq-server restore backups --data-dir d' 'data'
  expect 'supersoniq-server restore b' 'backups'
  expect 'supersoniq-server restore backups ' ''
  expect 'supersoniq-server migrate --' '--config --data-dir --help --to'
  expect 'supersoniq-server migrate --to ' ''
  expect 'supersoniq-server migrate --to 4 --d' '--data-dir'
fi
# The programs' own --help (SSQ_CLI_BIN, SSQ_SERVER_BIN, when given): every
# command and option they list is completed, and nothing else.
help_commands () { sed -n '/^Commands:/,/^$/s/^  \([^ ]*\).*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
help_options () { grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
if [[ -n ${SSQ_CLI_BIN:-} ]] && complete -p supersoniq-cli >/dev/null 2>&1; then
  expect 'supersoniq-cli ' "$(LC_ALL=C "$SSQ_CLI_BIN" --help | help_commands)"
  expect 'supersoniq-cli --' "$(LC_ALL=C "$SSQ_CLI_BIN" --help | help_options)"
fi
if [[ -n ${SSQ_SERVER_BIN:-} ]] && complete -p supersoniq-server >/dev/null 2>&1; then
  expect 'supersoniq-server --' "$(LC_ALL=C "$SSQ_SERVER_BIN" --help | help_options)"
  for command in admin backup restore migrate; do
    expect "supersoniq-server $command --" "$(LC_ALL=C "$SSQ_SERVER_BIN" "$command" --help | help_options)"
  done
  admin_help=$(LC_ALL=C "$SSQ_SERVER_BIN" admin --help)
  groups=$(help_commands <<< "$admin_help")
  expect 'supersoniq-server admin ' "$groups"
  for group in $groups; do
    expect "supersoniq-server admin $group " \
      "$(sed -n "/^Commands:/,/^\$/s/^  $group \([a-z-]*\).*/\1/p" <<< "$admin_help" | sort -u | tr '\n' ' ' | sed 's/ $//')"
  done
fi
echo "$failures failed"
[[ $failures == 0 ]]
