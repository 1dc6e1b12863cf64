#!/usr/bin/env bash
# `capsule completion bash`: sourced into bash, it completes nouns, verbs, options and option
# values from the command table, for capsule and for capsule-runtime.
source "$(dirname "$0")/../lib.sh"

if ! "$CAPSULE" completion bash >"$TMPD/capsule.bash" 2>"$TMPD/gen.err" || ! bash -n "$TMPD/capsule.bash" 2>>"$TMPD/gen.err"; then
	fail cli-completion-script "$(head -c 300 "$TMPD/gen.err")"
	exit 0
fi
pass cli-completion-script

# comp WORD...: the completions bash offers for the last WORD (may be empty) of that line.
comp() {
	bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		f=$(complete -p "$1" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		"$f"; printf "%s\n" "${COMPREPLY[@]}"' comp "$TMPD/capsule.bash" "$@" | sort | tr '\n' ' '
}
# check NAME WANT... -- WORD...: every WANT is among the completions of WORD...
check() {
	local name=$1 want=() w got miss=; shift
	while [ "$1" != -- ]; do want+=("$1"); shift; done; shift
	got=" $(comp "$@")"
	for w in "${want[@]}"; do [[ "$got" == *" $w "* ]] || miss+=" $w"; done
	[ -z "$miss" ] && pass "$name" || fail "$name" "'$*' completed to '$got', missing:$miss"
}
# only NAME WANT -- WORD...: the completions are exactly WANT (one word).
only() {
	local name=$1 want=$2 got; shift 3
	got=$(comp "$@")
	[ "$got" = "$want " ] && pass "$name" || fail "$name" "'$*' completed to '$got', want '$want'"
}

out=$(bash -c 'source "$1"; complete -p capsule; complete -p capsule-runtime' x "$TMPD/capsule.bash" 2>&1)
grep -q -- '-F _capsule capsule$' <<<"$out" && grep -q -- '-F _capsule_runtime capsule-runtime$' <<<"$out" &&
	pass cli-completion-registered || fail cli-completion-registered "complete -p: $out"

check cli-completion-nouns vm oci completion -- capsule ''
only cli-completion-noun-prefix vm -- capsule v
check cli-completion-vm-verbs run extract-kernel -- capsule vm ''
only cli-completion-verb-prefix extract-kernel -- capsule vm ex
only cli-completion-option --kernel -- capsule vm run --ker
check cli-completion-options --kernel --memory --disk --help -- capsule vm run --
check cli-completion-choices host guest -- capsule vm run --bzimage-decompress ''
check cli-completion-oci-choices table json -- capsule oci list --format ''
# The noun's options and their values come before the verb and do not hide it.
only cli-completion-after-noun-options run -- capsule oci --root /tmp --debug ru
check cli-completion-oci-kill --all --help -- capsule oci kill --
check cli-completion-runtime --process --tty --env -- capsule-runtime exec --
check cli-completion-runtime-verbs create start state kill delete exec features -- capsule-runtime ''
touch "$TMPD/kernel-image"
only cli-completion-file "$TMPD/kernel-image" -- capsule vm run --kernel "$TMPD/kernel-i"

# Every command of capsule --help completes after its noun.
miss=
while read -r noun verb; do
	[[ " $(comp capsule "$noun" '')" == *" $verb "* ]] || miss+=" $noun-$verb"
done < <("$CAPSULE" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [^ ]/ { print $1 " " $2 }')
[ -z "$miss" ] && pass cli-completion-every-command || fail cli-completion-every-command "not completed:$miss"
