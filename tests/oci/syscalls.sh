#!/usr/bin/env bash
# What one `run` costs in system calls, counted with strace: state.json and config.json are
# read whole (jansson's json_loadfd reads one byte per read(): a run made ~1,190 reads).
source "$(dirname "$0")/common.bash"
oci_require

if ! command -v strace >/dev/null; then
	skip oci-run-read-calls "strace not installed (scripts/deps)"
	exit 0
fi
# A sanitizer build's runtime makes reads of its own (/proc/self/maps...): the count is the
# real binary's.
if grep -q __asan_init "$(readlink -f "$RUNTIME")" 2>/dev/null; then
	skip oci-run-read-calls "a sanitizer build (its runtime reads on its own); counted in the normal build"
	exit 0
fi
new_bundle reads -- true
track reads
# -f: the init too; -c: a count per call; -e read: only read().
timeout -k 5 60 strace -f -c -e trace=read -o "$TMPD/strace.txt" \
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" reads >"$TMPD/reads.out" 2>&1 </dev/null
rc=$?
# Columns: % time, seconds, usecs/call, calls, [errors], syscall.
n=$(awk '$NF == "read" { print $4 }' "$TMPD/strace.txt" 2>/dev/null)
if [ $rc -ne 0 ]; then
	fail oci-run-read-calls "run under strace exited $rc: $(head -c 300 "$TMPD/reads.out")"
elif ! [[ "$n" =~ ^[0-9]+$ ]]; then
	fail oci-run-read-calls "no read count in strace's summary: $(head -c 300 "$TMPD/strace.txt" | tr '\n' '|')"
elif [ "$n" -ge 100 ]; then
	fail oci-run-read-calls "$n read() calls for one run (want < 100)"
else
	pass oci-run-read-calls
fi
