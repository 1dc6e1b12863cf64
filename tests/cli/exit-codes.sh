#!/usr/bin/env bash
# docs/exit-codes.md, src/lib/error.h and the list capsule --help prints name the same exit codes
# with the same numbers.
source "$(dirname "$0")/../lib.sh"

H=$CAPSULE_ROOT/src/lib/error.h
DOC=$CAPSULE_ROOT/docs/exit-codes.md
# "NAME NUMBER" for every CAP_EXIT_* of the enum in error.h.
sed -n 's/^[[:space:]]*\(CAP_EXIT_[A-Z_]*\)[[:space:]]*=[[:space:]]*\([0-9]*\),.*/\1 \2/p' "$H" | sort >"$TMPD/h"
# The same from the doc's table rows: "| 3 | `CAP_EXIT_GUEST_PANIC` | ..." ("128+N" counts as 128).
sed -n 's/^| \([0-9]*\)\(+N\)\{0,1\} | `\(CAP_EXIT_[A-Z_]*\)` |.*/\3 \1/p' "$DOC" | sort >"$TMPD/doc"
if [ "$(wc -l <"$TMPD/h")" -lt 5 ]; then
	fail cli-exit-codes-header "found only $(wc -l <"$TMPD/h") CAP_EXIT_* codes in $H"
elif ! diff -u "$TMPD/h" "$TMPD/doc" >"$TMPD/diff"; then
	fail cli-exit-codes-doc "error.h and docs/exit-codes.md differ: $(tr '\n' ' ' <"$TMPD/diff" | head -c 400)"
else
	pass cli-exit-codes-doc
fi

# capsule --help's "Exit status" list has every number of error.h (128 as 128+N).
listed=$("$CAPSULE" --help | sed -n '/^Exit status:/,$p' | awk 'NR > 1 { print $1 }')
miss=
while read -r name num; do
	want=$num
	[ "$name" = CAP_EXIT_SIGNAL ] && want=$num+N
	grep -qx -- "$want" <<<"$listed" || miss+=" $name($want)"
done <"$TMPD/h"
[ -z "$miss" ] && pass cli-exit-codes-help || fail cli-exit-codes-help "capsule --help lacks:$miss"
