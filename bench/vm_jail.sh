#!/usr/bin/env bash
# What the jailer costs on VM start: the same Capsule test guest (boottimer.elf, 64 MiB, it pokes
# the boot timer and powers off at once) run plain and with --jail, interleaved (plain, jail, plain,
# jail, ...) and repeated. Wall ms from exec to exit and CPU-ms (user+sys of capsule and its
# children: the supervisor, the jailed VMM) for the whole run; the boot timer's "start" CPU-ms is
# the VMM process alone (for the jail: the jailed child, after the supervisor's part).
# Timings are reported, never judged.
set -uo pipefail
source "$(dirname "$0")/lib.bash"
GUEST=$ROOT/$B/guest/boottimer.elf
RUNS=${RUNS:-20}

echo "== VM start, plain vs --jail, $RUNS runs each, interleaved"
if [ ! -c /dev/kvm ] || [ ! -f "$GUEST" ] || [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: needs /dev/kvm, root and $GUEST (run make)"
	exit 0
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
TIMEFORMAT='%3R %3U %3S'
one() { # kind args...
	local kind=$1
	shift
	{ time "$CAPSULE" vm run --kernel "$GUEST" --memory 64 --boot-timer --console none "$@" 2>"$t/err" >/dev/null; } 2>"$t/time"
	awk '{printf "%.1f\n", $1 * 1000}' "$t/time" >>"$t/$kind.wall"
	awk '{printf "%.1f\n", ($2 + $3) * 1000}' "$t/time" >>"$t/$kind.cpu"
	awk '/^start:/ {print $2}' "$t/err" >>"$t/$kind.start"
}
for i in $(seq "$RUNS"); do
	one plain
	one jail --jail --id "bench-$$" --chroot-base "$t/jail"
done
printf "%-46s %10s %10s %8s\n" "metric (median)" "plain" "--jail" "ratio"
row() {
	local a b
	a=$(median <"$t/plain.$2") b=$(median <"$t/jail.$2")
	printf "%-46s %10s %10s %8s\n" "$1" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {if (a > 0) printf "%.2fx", b / a; else print "n/a"}')"
}
row "wall ms, exec -> exit" wall
row "CPU-ms, capsule + children (time)" cpu
row "VMM start CPU-ms (boot timer, VMM process)" start
