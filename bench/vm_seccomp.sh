#!/usr/bin/env bash
# What the per-thread seccomp filters cost on VM start: the same Capsule test guest (boottimer.elf,
# 64 MiB, 2 vCPUs: it pokes the boot timer and powers off at once) run with --seccomp none and
# --seccomp default, interleaved (none, default, none, ...) and repeated. Wall ms from exec to exit
# and CPU-ms (user+sys) of the whole run; the boot timer's "start" CPU-ms (process start to the
# first guest instruction, when only the vCPU and I/O threads have installed theirs).
# Timings are reported, never judged.
set -uo pipefail
source "$(dirname "$0")/lib.bash"
GUEST=$ROOT/$B/guest/boottimer.elf
RUNS=${RUNS:-20}

echo "== VM start, --seccomp none vs default, $RUNS runs each, interleaved"
if [ ! -c /dev/kvm ] || [ ! -f "$GUEST" ]; then
	echo "SKIPPED: needs /dev/kvm and $GUEST (run make)"
	exit 0
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
TIMEFORMAT='%3R %3U %3S'
one() { # mode
	{ time "$CAPSULE" vm run --kernel "$GUEST" --memory 64 --cpus 2 --boot-timer --console none --seccomp "$1" \
		2>"$t/err" >/dev/null; } 2>"$t/time"
	awk '{printf "%.1f\n", $1 * 1000}' "$t/time" >>"$t/$1.wall"
	awk '{printf "%.1f\n", ($2 + $3) * 1000}' "$t/time" >>"$t/$1.cpu"
	awk '/^start:/ {print $2}' "$t/err" >>"$t/$1.start"
}
for i in $(seq "$RUNS"); do
	one none
	one default
done
printf "%-46s %10s %10s %8s\n" "metric (median)" "none" "default" "ratio"
row() {
	local a b
	a=$(median <"$t/none.$2") b=$(median <"$t/default.$2")
	printf "%-46s %10s %10s %8s\n" "$1" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {if (a > 0) printf "%.2fx", b / a; else print "n/a"}')"
}
row "wall ms, exec -> exit" wall
row "CPU-ms, capsule (time)" cpu
row "VMM start CPU-ms (boot timer)" start
