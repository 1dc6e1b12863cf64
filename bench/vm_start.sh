#!/usr/bin/env bash
# VMM start cost on this machine's own KVM, with a Capsule test guest that pokes the boot timer at
# once: process start -> first guest instruction (CPU-ms and wall), boot-timer time, and the VMM's
# resident memory excluding guest RAM. Anchor, side by side: QEMU (Debian's qemu-system-x86) with
# -M microvm -accel kvm, started paused (-S): CPU time and RSS when its VM is ready to run.
# Published targets: Firecracker <= 8 CPU-ms start and <= 5 MiB overhead; Capsule aims for <= 2 / <= 2.
# Timings are reported, never judged.
set -uo pipefail
source "$(dirname "$0")/lib.bash"
GUEST=$ROOT/$B/guest/boottimer.elf
RUNS=${RUNS:-20}

echo "== VMM start on this host's /dev/kvm ($( [ -d /sys/module/kvm_pvm ] && echo kvm_pvm || echo hardware-like)), $RUNS runs, 64 MiB guest"
if [ ! -c /dev/kvm ] || [ ! -f "$GUEST" ]; then
	echo "SKIPPED: no /dev/kvm or no $GUEST (run make)"
	exit 0
fi

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
for i in $(seq "$RUNS"); do
	launch=$EPOCHREALTIME
	s=$(date +%s%N)
	"$CAPSULE" vm run --kernel "$GUEST" --memory 64 --boot-timer --console none 2>"$t/err" >/dev/null
	e=$(date +%s%N)
	awk -v l="$launch" '/^first-entry:/ {printf "%.3f\n", ($2 - l) * 1000}' "$t/err" >>"$t/entrywall"
	awk '/^start:/ {print $2}' "$t/err" >>"$t/cpu"
	awk '/^boot:/ {print $2}' "$t/err" >>"$t/boot"
	awk '/^vmm:/ {print $2}' "$t/err" >>"$t/rss"
	echo "$(( (e - s) / 1000 ))" | awk '{printf "%.3f\n", $1/1000}' >>"$t/wall"
done

# QEMU anchor: start paused with a QMP socket; CPU time (all threads, from schedstat, ns) and RSS
# minus shared memory once QMP answers, i.e. the VM is built and ready to run.
q=$(command -v qemu-system-x86_64 || true)
if [ -n "$q" ]; then
	for i in $(seq "$RUNS"); do
		sock=$t/qmp.$i
		s=$(date +%s%N)
		"$q" -M microvm,x-option-roms=off,rtc=off -accel kvm -m 64 -nodefaults -no-user-config -display none \
			-S -qmp unix:"$sock",server=on,wait=off >/dev/null 2>&1 &
		qp=$!
		for _ in $(seq 500); do [ -S "$sock" ] && break; sleep 0.002; done
		# One QMP round trip proves it is up.
		printf '{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n' |
			timeout 5 socat - UNIX-CONNECT:"$sock" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		ns=0
		for f in /proc/$qp/task/*/schedstat; do ns=$(( ns + $(cut -d' ' -f1 "$f") )); done
		echo "$ns" | awk '{printf "%.3f\n", $1/1e6}' >>"$t/qcpu"
		awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {printf "%.2f\n", (a+f)/1024}' /proc/$qp/status >>"$t/qrss"
		echo "$(( (e - s) / 1000 ))" | awk '{printf "%.3f\n", $1/1000}' >>"$t/qwall"
		kill "$qp" 2>/dev/null; wait "$qp" 2>/dev/null
	done
fi

printf "%-44s %12s %12s\n" "metric (median, p90)" "capsule" "qemu microvm"
printf "%-44s %12s %12s\n" "start CPU-ms (process -> first guest insn)" "$(median <"$t/cpu") / $(p90 <"$t/cpu")" \
	"$( [ -s "$t/qcpu" ] && echo "$(median <"$t/qcpu") / $(p90 <"$t/qcpu")" || echo n/a)"
printf "%-44s %12s %12s\n" "start wall ms (launch -> first guest insn)" "$(median <"$t/entrywall") / $(p90 <"$t/entrywall")" "n/a"
printf "%-44s %12s %12s\n" "wall ms (exec -> guest exited / QMP ready)" "$(median <"$t/wall") / $(p90 <"$t/wall")" \
	"$( [ -s "$t/qwall" ] && echo "$(median <"$t/qwall") / $(p90 <"$t/qwall")" || echo n/a)"
printf "%-44s %12s %12s\n" "boot-timer ms (VM start -> guest init)" "$(median <"$t/boot")" "n/a"
printf "%-44s %12s %12s\n" "VMM RSS MiB, guest memory excluded" "$(median <"$t/rss")" \
	"$( [ -s "$t/qrss" ] && median <"$t/qrss" || echo n/a)"
echo "targets: start <= 2 CPU-ms, overhead <= 2 MiB (Firecracker publishes <= 8 CPU-ms, <= 5 MiB)"
