#!/usr/bin/env bash
# The man pages make builds from the command table ($B/man): capsule(1) and one page per noun,
# each command a section; they render with man -l and groff warns about nothing.
source "$(dirname "$0")/../lib.sh"

MAN=$CAPSULE_ROOT/$B/man
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
	skip cli-man "groff or man not installed (scripts/deps: groff-base man-db)"; exit 0
fi
if [ ! -s "$MAN/capsule.1" ]; then
	fail cli-man-built "no $MAN/capsule.1 (make builds the man pages)"; exit 0
fi
pass cli-man-built

# One page per noun of capsule --help, with a section per verb.
bad=
cmds=$("$CAPSULE" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [^ ]/ { print $1 " " $2 }')
while read -r noun verb; do
	page=$MAN/capsule-$noun.1
	if [ ! -s "$page" ]; then
		bad+=" capsule-$noun.1(missing)"
	elif ! grep -qx ".SS $(sed 's/-/\\\\-/g' <<<"$verb")" "$page"; then
		bad+=" capsule-$noun.1:$verb"
	fi
	grep -q "^\.B capsule $noun" "$MAN/capsule.1" || bad+=" capsule.1:$noun"
done <<<"$cmds"
[ -z "$bad" ] && pass cli-man-every-command || fail cli-man-every-command "$bad"

# Each page renders, without a groff warning, and says what it documents.
bad=
for page in "$MAN"/*.1; do
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	text=$(MANWIDTH=80 man -l "$page" 2>"$TMPD/man.err")
	name=$(basename "$page" .1)
	if [ -n "$warn" ] || [ -s "$TMPD/man.err" ]; then
		bad+=" $name: $(head -c 200 <<<"$warn") $(head -c 200 "$TMPD/man.err")"
	elif ! grep -q "^NAME" <<<"$text" || ! grep -Eq "^ *$name +- " <<<"$text" || ! grep -q '^EXIT STATUS' <<<"$text"; then
		bad+=" $name(no NAME / EXIT STATUS)"
	fi
done
[ -z "$bad" ] && pass cli-man-render || fail cli-man-render "$bad"

# An option of the table shows up in its page as text (vm run --bzimage-decompress host|guest).
MANWIDTH=200 man -l "$MAN/capsule-vm.1" 2>/dev/null | grep -q -- '--bzimage-decompress host|guest' &&
	pass cli-man-options || fail cli-man-options "capsule-vm(1) lacks --bzimage-decompress host|guest"
