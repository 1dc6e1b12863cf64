#!/usr/bin/env bash
# Snapshot and restore of a micro-VM on this machine's own KVM, with the ticker test guest
# (guest/tests/ticker.c, which pokes the boot timer first with ticker.poke), at 128 MiB, 512 MiB
# and 2 GiB of guest RAM:
#  1. snapshot: state file size, memory file size on disk (allocated blocks: holes are not
#     written), and the time to write it (capsule's own "snapshot N written ... in T ms" line),
#     full and diff (the diff 100 ms after the full one);
#  2. restore against a fresh boot of the same guest, interleaved A,B,A,B, ROUNDS rounds:
#     launch -> the guest's first instruction (boot: the boot timer's first-entry line) and
#     launch -> the restored guest released to run (restore: its "restored:" line), plus the
#     time capsule spends in vm_snapshot_restore itself ("restore: T ms (snapshot files -> guest
#     running)"), and how much of that is KVM_SET_USER_MEMORY_REGION alone (a fixed wait inside
#     KVM, an SRCU grace period, whatever the memory size). Medians, p90 and the ratio restore / boot.
#   ROUNDS=20 bench/vm_snapshot.sh
# Timings are reported, never judged.
set -uo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.bash"
GUEST=${GUEST:-$ROOT/$B/guest/ticker.elf}
ROUNDS=${ROUNDS:-20}
SIZES=${SIZES:-128 512 2048}

echo "== snapshot/restore on this host's /dev/kvm ($( [ -d /sys/module/kvm_pvm ] && echo kvm_pvm || echo hardware-like)), $ROUNDS rounds"
if [ ! -c /dev/kvm ] || [ ! -f "$GUEST" ]; then
	echo "SKIPPED: no /dev/kvm or no $GUEST (run make)"
	exit 0
fi
if [ -z "${EPOCHREALTIME:-}" ]; then echo "SKIPPED: needs bash 5 (EPOCHREALTIME)"; exit 0; fi

W=$(mktemp -d /tmp/capsule-bench-snap.XXXXXX)
trap 'rm -rf "$W"' EXIT
CMD="ticks=1000000 ticker.poke"

# 1. snapshots: a full one after 200 ms of running, a diff 100 ms later
printf "%-10s %12s %14s %12s %14s %12s\n" "guest RAM" "state bytes" "full mem disk" "full ms" "diff mem disk" "diff ms"
for m in $SIZES; do
	"$CAPSULE" vm run --kernel "$GUEST" --memory "$m" --cmdline "$CMD" --console none --debug \
		--snapshot "after=200,state=$W/s$m.state,mem=$W/s$m.mem" \
		--snapshot "after=300,state=$W/d$m.state,mem=$W/d$m.mem,diff" >/dev/null 2>"$W/snap$m.log"
	full_ms=$(sed -n 's/.*snapshot 1 written after [0-9]* ms in \([0-9.]*\) ms.*/\1/p' "$W/snap$m.log")
	diff_ms=$(sed -n 's/.*snapshot 2 (diff) written after [0-9]* ms in \([0-9.]*\) ms.*/\1/p' "$W/snap$m.log")
	printf "%-10s %12s %14s %12s %14s %12s\n" "$m MiB" "$(stat -c %s "$W/s$m.state" 2>/dev/null || echo n/a)" \
		"$(du -h "$W/s$m.mem" 2>/dev/null | cut -f1)" "${full_ms:-n/a}" "$(du -h "$W/d$m.mem" 2>/dev/null | cut -f1)" "${diff_ms:-n/a}"
done
echo

# 2. restore vs boot, interleaved
for m in $SIZES; do
	[ -f "$W/s$m.state" ] || continue
	for i in $(seq "$ROUNDS"); do
		launch=$EPOCHREALTIME
		"$CAPSULE" vm run --kernel "$GUEST" --memory "$m" --cmdline "ticks=1 spin=1 ticker.poke" --boot-timer \
			--console none >/dev/null 2>"$W/boot.err"
		awk -v l="$launch" '/^first-entry:/ {printf "%.3f\n", ($2 - l) * 1000}' "$W/boot.err" >>"$W/boot$m"
		awk '/^start:/ {print $2}' "$W/boot.err" >>"$W/bootcpu$m"
		launch=$EPOCHREALTIME
		# the restored guest would tick on for minutes: stop it once it runs
		timeout -s TERM 0.5 "$CAPSULE" vm restore --state "$W/s$m.state" --mem "$W/s$m.mem" --boot-timer \
			--console none >/dev/null 2>"$W/restore.err"
		awk -v l="$launch" '/^restored:/ {printf "%.3f\n", ($2 - l) * 1000}' "$W/restore.err" >>"$W/rest$m"
		awk '/^restore:/ {print $2}' "$W/restore.err" >>"$W/restin$m"
		sed -n 's/.*; \([0-9.]*\) ms of it in KVM_SET_USER_MEMORY_REGION.*/\1/p' "$W/restore.err" >>"$W/restslot$m"
		sed -n 's/.*, \([0-9.]*\) CPU-ms since process start/\1/p' "$W/restore.err" >>"$W/restcpu$m"
	done
done
printf "%-10s %22s %22s %8s %20s %14s %14s %14s\n" "guest RAM" "boot launch->run ms" "restore launch->run ms" "ratio" \
	"in restore call ms" "of it memslot" "boot CPU-ms" "restore CPU-ms"
printf "%-10s %22s %22s %8s %20s %14s %14s %14s\n" "" "median / p90" "median / p90" "" "median / p90" "median ms" "median" "median"
for m in $SIZES; do
	[ -s "$W/rest$m" ] || continue
	bm=$(median <"$W/boot$m")
	rm_=$(median <"$W/rest$m")
	printf "%-10s %22s %22s %8s %20s %14s %14s %14s\n" "$m MiB" "$bm / $(p90 <"$W/boot$m")" "$rm_ / $(p90 <"$W/rest$m")" \
		"$(awk -v a="$rm_" -v b="$bm" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')" \
		"$(median <"$W/restin$m") / $(p90 <"$W/restin$m")" "$(median <"$W/restslot$m")" "$(median <"$W/bootcpu$m")" "$(median <"$W/restcpu$m")"
done
echo "boot: a fresh vm run of the same guest to its first instruction; restore: vm restore to the guest released"
echo "to run. Issue 9's target: restore <= 2 ms at 512 MiB and flat in memory size (Firecracker: < 8 ms, p90 5 ms)."
