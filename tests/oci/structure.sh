#!/usr/bin/env bash
# The shape of src/oci/ as a library: no circles between its modules (includes, and the
# symbols one object takes from another), and no output of its own on stdout (the CLI in
# src/cli/ prints; the library returns data).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$CAPSULE_ROOT"

if out=$(scripts/include-cycles src/oci 2>&1); then
	pass oci-structure-no-circles
else
	fail oci-structure-no-circles "$(echo "$out" | tr '\n' ' ')"
fi

# printf/puts/fputs/putchar/fwrite/dprintf/fprintf... to anything: s(n)printf into buffers is
# the only printf-family call src/oci/ may make (the child's stderr is written with write(2)).
hits=$(grep -rnE '\b(v?f?printf|dprintf|puts|fputs|putchar|fputc|fwrite)[[:space:]]*\(' src/oci/ |
	grep -vE '\bv?snprintf[[:space:]]*\(' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' |
	grep -v '__attribute__')
if [ -z "$hits" ]; then
	pass oci-structure-no-printing
else
	fail oci-structure-no-printing "$(echo "$hits" | head -3 | tr '\n' ' ')"
fi
