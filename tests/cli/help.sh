#!/usr/bin/env bash
# --help for capsule, every noun and every command of the command table (src/cli/table.c), from
# the table; unknown nouns, commands and options fail with one line and exit 2.
source "$(dirname "$0")/../lib.sh"

out=$("$CAPSULE" --help 2>&1)
rc=$?
# The commands, as capsule --help lists them: "  noun verb   summary" lines of its Commands part.
cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$out" | awk '/^  [^ ]/ { print $1 " " $2 }')
ncmds=$(grep -c . <<<"$cmds")
if [ $rc -ne 0 ] || ! grep -q '^Usage: capsule' <<<"$out" || [ "$ncmds" -lt 3 ]; then
	fail cli-help-main "exit $rc, $ncmds commands listed: $(head -c 300 <<<"$out")"
else
	pass cli-help-main
fi
[ "$("$CAPSULE" help 2>&1)" = "$out" ] && pass cli-help-word || fail cli-help-word "capsule help differs from capsule --help"

# Every command's --help: exit 0, a usage line naming it, on stdout; `capsule help N V` says the same.
bad=
while read -r noun verb; do
	h=$("$CAPSULE" "$noun" "$verb" --help 2>/dev/null)
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^Usage: capsule $noun .*$verb" <<<"$h"; then
		bad+=" $noun-$verb(--help: exit $rc)"
	elif [ "$("$CAPSULE" help "$noun" "$verb" 2>/dev/null)" != "$h" ]; then
		bad+=" $noun-$verb(help differs)"
	elif [ "$("$CAPSULE" "$noun" "$verb" -h 2>/dev/null)" != "$h" ]; then
		bad+=" $noun-$verb(-h differs)"
	fi
done <<<"$cmds"
[ -z "$bad" ] && pass cli-help-every-command || fail cli-help-every-command "$bad"

# Every noun's --help lists its verbs.
bad=
for noun in $(awk '{ print $1 }' <<<"$cmds" | sort -u); do
	h=$("$CAPSULE" "$noun" --help 2>/dev/null) || { bad+=" $noun(exit $?)"; continue; }
	for verb in $(awk -v n="$noun" '$1 == n { print $2 }' <<<"$cmds"); do
		grep -Eq "^  $verb( |$)" <<<"$h" || bad+=" $noun:$verb"
	done
done
[ -z "$bad" ] && pass cli-help-every-noun || fail cli-help-every-noun "missing:$bad"

# vm run --help lists its options with their values, and does not boot anything.
h=$("$CAPSULE" vm run --kernel /nonexistent --help 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q -- '--kernel PATH' <<<"$h" && grep -q -- '--disk PATH' <<<"$h" && pass cli-help-vm-run-options ||
	fail cli-help-vm-run-options "exit $rc: $(head -c 300 <<<"$h")"

# As capsule-runtime, a verb's --help is the oci command's help.
rt=$(dirname "$CAPSULE")/capsule-runtime
h=$("$rt" exec --help 2>&1)
[ $? -eq 0 ] && grep -q '^Usage: capsule oci .*exec' <<<"$h" && grep -q -- '--process FILE' <<<"$h" &&
	pass cli-help-runtime || fail cli-help-runtime "$(head -c 300 <<<"$h")"

# Bad command lines: one line, exit 2.
expect_error cli-unknown-noun 2 "^capsule: unknown command 'nosuch'" "$CAPSULE" nosuch
expect_error cli-unknown-verb 2 "^capsule: vm: unknown command 'nosuch'" "$CAPSULE" vm nosuch
expect_error cli-unknown-option 2 "^capsule: oci list: unknown option '--nosuch'" "$CAPSULE" oci list --nosuch
expect_error cli-unknown-global-option 2 "^capsule: unknown option '--nosuch'" "$CAPSULE" --nosuch
expect_error cli-missing-value 2 "^capsule: vm run: option --kernel needs a value" "$CAPSULE" vm run --kernel
expect_error cli-bad-choice 2 "^capsule: oci list: --format yaml: want table\|json" "$CAPSULE" oci list --format yaml
expect_error cli-bad-int 2 "^capsule: oci run: --preserve-fds wants a number, not 'x'" "$CAPSULE" oci run --preserve-fds x id
expect_error cli-too-many-args 2 "^capsule: vm extract-kernel: too many arguments, want BZIMAGE OUT" \
	"$CAPSULE" vm extract-kernel a b c
expect_error cli-help-unknown 2 "^capsule: help: no command 'vm nosuch'" "$CAPSULE" help vm nosuch
# A missing verb prints the noun's help on stderr and exits 2.
"$CAPSULE" vm >/dev/null 2>"$TMPD/noverb.err"
rc=$?
[ $rc -eq 2 ] && grep -q '^Usage: capsule vm' "$TMPD/noverb.err" && pass cli-missing-verb ||
	fail cli-missing-verb "exit $rc: $(head -c 200 "$TMPD/noverb.err")"
