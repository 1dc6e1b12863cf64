#!/usr/bin/env bash
# OCI container lifecycle: Capsule vs crun vs runc, side by side, from the same busybox bundle.
#
#  1. `run` of /bin/true (create + start + wait + delete in one invocation), N times each:
#     median and p90 wall time per run, and the ratio of medians to crun.
#  2. The same as separate commands, as podman/containerd drive a runtime: create, start,
#     wait for the process to exit (polling /proc, no runtime call), delete.
#  3. Memory the runtime charges to the container's own memory cgroup: the peak
#     (memory.max_usage_in_bytes on v1, memory.peak on v2) after /bin/true ran, and the usage of a
#     container 0.5 s into a sleep (memory.usage_in_bytes / memory.current); lowest of 5.
#
#   N=100 ROUNDS=10 bench/oci_lifecycle.sh       RUNTIMES="capsule crun runc" (default)
#
# The runtimes take turns in ROUNDS rounds of N/ROUNDS containers each, so the machine's load
# (other jobs on the same cores) falls on all of them alike.
#
# crun 1.8 refuses this host's hybrid layout (a cgroup2 mount holding hugetlb), so crun alone runs
# in a private mount namespace where that mount is hidden by a scratch tmpfs (plain cgroup v1);
# Capsule and runc get the host as it is. Timings are never pass/fail.
set -uo pipefail
export LC_ALL=C
: "${B:=build}"
: "${CAPSULE_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
N=${N:-100}
RUNTIMES=${RUNTIMES:-capsule crun runc}

if [ "$(id -u)" -ne 0 ]; then echo "oci_lifecycle: needs root; skipped"; exit 0; fi
if [ -z "${EPOCHREALTIME:-}" ]; then echo "oci_lifecycle: needs bash 5 (EPOCHREALTIME); skipped"; exit 0; fi

W=$(mktemp -d /tmp/capsule-bench.XXXXXX)
CGPREFIX=/capsule-bench-$$
cleanup() {
	local d
	for d in /sys/fs/cgroup/*/"$CGPREFIX" /sys/fs/cgroup/"$CGPREFIX"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT

"$CAPSULE_ROOT/scripts/mkbundle" "$W/bundle" -- /bin/true >/dev/null
# Every container of one runtime lives in $CGPREFIX/<runtime>, so its memory can be read.
setcg() {
	jq --arg p "$1" '.linux.cgroupsPath = $p' "$W/bundle/config.json" >"$W/c.json" &&
		mv "$W/c.json" "$W/bundle/config.json"
}
setargs() {
	jq --argjson a "$1" '.process.args = $a' "$W/bundle/config.json" >"$W/c.json" &&
		mv "$W/c.json" "$W/bundle/config.json"
}

v2=0
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && v2=1
memfile() { # memfile REL peak|now
	if [ $v2 -eq 1 ]; then
		[ "$2" = peak ] && echo "/sys/fs/cgroup$1/memory.peak" || echo "/sys/fs/cgroup$1/memory.current"
	else
		[ "$2" = peak ] && echo "/sys/fs/cgroup/memory$1/memory.max_usage_in_bytes" ||
			echo "/sys/fs/cgroup/memory$1/memory.usage_in_bytes"
	fi
}

# The worker: one phase for one runtime. Runs as its own bash so crun's can sit in a private
# mount namespace.  worker NAME RUNTIME PHASE [COUNT]
#   warm        3 untimed runs (page cache, first-run costs); prints "ok" or "FAILED why"
#   run|split   COUNT timed containers; prints their times in microseconds on one line
#   mem         prints "peak_bytes sleeping_bytes"
worker() {
	local name=$1 rt=$2 phase=$3 count=${4:-0} root=$W/root-$name i t0 t1 pid st
	local -a t=()
	mkdir -p "$root"
	# nap: a 1 ms pause without forking (read with a timeout on a pipe nobody writes), so the
	# wait loop does not take a CPU from the container it waits for.
	local napfd
	exec {napfd}<> <(:)
	nap() { read -r -t 0.001 -u "$napfd" _; }
	# wait_exit PID: the process is gone or a zombie (reaped by whoever is its parent now)
	wait_exit() { while [ -r "/proc/$1/stat" ] && read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null && [ "$st" != Z ]; do nap; done; }
	setcg "$CGPREFIX/$name"
	setargs '["/bin/true"]'
	case $phase in
	warm)
		for i in 1 2 3; do
			"$rt" --root "$root" run --bundle "$W/bundle" warm-$name >/dev/null 2>"$W/$name.err" </dev/null ||
				{ echo "FAILED $(head -c 200 "$W/$name.err" | tr '\n' ' ')"; return; }
		done
		echo ok ;;
	run)
		for ((i = 0; i < count; i++)); do
			t0=$EPOCHREALTIME
			"$rt" --root "$root" run --bundle "$W/bundle" b-$name >/dev/null 2>&1 </dev/null ||
				{ echo "FAILED run"; return; }
			t1=$EPOCHREALTIME
			t+=($(( ${t1/./} - ${t0/./} )))
		done
		echo "${t[*]}" ;;
	split)
		for ((i = 0; i < count; i++)); do
			t0=$EPOCHREALTIME
			"$rt" --root "$root" create --bundle "$W/bundle" --pid-file "$W/$name.pid" s-$name \
				>/dev/null 2>&1 </dev/null || { echo "FAILED create"; return; }
			"$rt" --root "$root" start s-$name >/dev/null 2>&1 || { echo "FAILED start"; return; }
			read -r pid <"$W/$name.pid"
			wait_exit "$pid"
			"$rt" --root "$root" delete s-$name >/dev/null 2>&1 || { echo "FAILED delete"; return; }
			t1=$EPOCHREALTIME
			t+=($(( ${t1/./} - ${t0/./} )))
		done
		echo "${t[*]}" ;;
	mem)
		# The kernel charges a memory cgroup in per-CPU batches of 64 pages (MEMCG_CHARGE_BATCH),
		# so one reading can be 256 KiB above what was used: take the lowest of 5 fresh cgroups.
		local rel j peak now
		local -a peaks=() nows=()
		for j in 1 2 3 4 5; do
			# the peak after /bin/true
			rel=$CGPREFIX/$name-mem$j
			setcg "$rel"
			setargs '["/bin/true"]'
			"$rt" --root "$root" create --bundle "$W/bundle" --pid-file "$W/$name.pid" m-$name \
				>/dev/null 2>&1 </dev/null
			"$rt" --root "$root" start m-$name >/dev/null 2>&1
			read -r pid <"$W/$name.pid"
			wait_exit "$pid"
			peaks+=($(cat "$(memfile "$rel" peak)" 2>/dev/null || echo 0))
			"$rt" --root "$root" delete --force m-$name >/dev/null 2>&1
			# a container 0.5 s into sleep: what the runtime left charged, plus sleep itself
			rel=$CGPREFIX/$name-sleep$j
			setcg "$rel"
			setargs '["/bin/sleep", "30"]'
			"$rt" --root "$root" create --bundle "$W/bundle" z-$name >/dev/null 2>&1 </dev/null
			"$rt" --root "$root" start z-$name >/dev/null 2>&1
			sleep 0.5
			nows+=($(cat "$(memfile "$rel" now)" 2>/dev/null || echo 0))
			"$rt" --root "$root" delete --force z-$name >/dev/null 2>&1
		done
		setargs '["/bin/true"]'
		peak=$(printf '%s\n' "${peaks[@]}" | sort -n | head -n1)
		now=$(printf '%s\n' "${nows[@]}" | sort -n | head -n1)
		echo "${peak:-NA} ${now:-NA}" ;;
	esac
}

# stats MICROSECONDS...: "median p90" in ms with two decimals.
stats() {
	local -a s
	mapfile -t s < <(printf '%s\n' "$@" | sort -n)
	local n=${#s[@]}
	local med=${s[$(( (n - 1) / 2 ))]} p90=${s[$(( (n * 9 + 9) / 10 - 1 ))]}
	printf '%d.%02d %d.%02d' $((med / 1000)) $((med % 1000 / 10)) $((p90 / 1000)) $((p90 % 1000 / 10))
}

# ratio A B: A/B with two decimals, "-" without a B.
ratio() { [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo -; }
# mb BYTES: in MB (10^6) with two decimals.
mb() { [[ "$1" =~ ^[0-9]+$ ]] && awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }' || echo NA; }
export W CGPREFIX N v2
export -f worker stats setcg setargs memfile

declare -A RT=() RUNS=() SPLITS=() MEM=() BAD=()
names=()
notes=()
for name in $RUNTIMES; do
	case $name in
	capsule)
		case $B in /*) rt=$B/capsule-runtime ;; *) rt=$CAPSULE_ROOT/$B/capsule-runtime ;; esac
		if ! "$rt" --version >/dev/null 2>&1; then
			notes+=("capsule: $rt --version fails ($("$rt" --version 2>&1 | head -n1)); not measured")
			continue
		fi ;;
	*)
		rt=$(command -v "$name") || { notes+=("$name: not installed; not measured"); continue; } ;;
	esac
	RT[$name]=$rt
	names+=("$name")
	if [ "$name" = crun ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
		notes+=("crun: run with the hybrid cgroup2 mount hidden (crun 1.8 refuses it)")
	fi
done

# call NAME PHASE [COUNT]: the worker, in crun's private mount namespace when it needs one.
call() {
	local name=$1; shift
	if [ "$name" = crun ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
		unshare -m --propagation private bash -c \
			'mount -t tmpfs -o size=1m capsule-v1only /sys/fs/cgroup/unified && worker "$@"' \
			bash "$name" "${RT[$name]}" "$@"
	else
		worker "$name" "${RT[$name]}" "$@"
	fi
}

for name in "${names[@]}"; do
	out=$(call "$name" warm)
	[ "$out" = ok ] || BAD[$name]=$out
done
# Interleaved in ROUNDS rounds of N/ROUNDS containers per runtime, so the machine's load (other
# jobs on the same cores) falls on every runtime alike.
ROUNDS=${ROUNDS:-10}
block=$(( (N + ROUNDS - 1) / ROUNDS ))
for phase in run split; do
	for ((r = 0; r < ROUNDS; r++)); do
		for name in "${names[@]}"; do
			[ -n "${BAD[$name]:-}" ] && continue
			out=$(call "$name" $phase $block)
			case $out in
			FAILED*) BAD[$name]=$out ;;
			*) if [ $phase = run ]; then RUNS[$name]+=" $out"; else SPLITS[$name]+=" $out"; fi ;;
			esac
		done
	done
done
for name in "${names[@]}"; do
	[ -n "${BAD[$name]:-}" ] || MEM[$name]=$(call "$name" mem)
done

results=()
for name in "${names[@]}"; do
	if [ -n "${BAD[$name]:-}" ]; then
		results+=("$name FAILED ${BAD[$name]#FAILED }")
	else
		results+=("$name $(stats ${RUNS[$name]}) $(stats ${SPLITS[$name]}) ${MEM[$name]}")
	fi
done

crun_med=$(printf '%s\n' "${results[@]}" | awk '$1 == "crun" && $2 != "FAILED" { print $2 }')
crun_split=$(printf '%s\n' "${results[@]}" | awk '$1 == "crun" && $2 != "FAILED" { print $4 }')

echo "OCI lifecycle of /bin/true from one busybox bundle, N=$((block * ROUNDS)) per runtime in $ROUNDS interleaved rounds (ms per container)"
printf '%-9s %10s %9s %8s   %12s %9s %8s   %10s %11s\n' runtime "run med" "run p90" "vs crun" \
	"c+s+w+d med" "p90" "vs crun" "peak MB" "sleeping MB"
for line in "${results[@]}"; do
	set -- $line
	if [ "$2" = FAILED ]; then
		printf '%-9s %s\n' "$1" "failed: ${*:3}"
		continue
	fi
	printf '%-9s %10s %9s %8s   %12s %9s %8s   %10s %11s\n' "$1" "$2" "$3" \
		"$(ratio "$2" "$crun_med")" "$4" "$5" "$(ratio "$4" "$crun_split")" "$(mb "$6")" "$(mb "$7")"
done 2>/dev/null
for n in "${notes[@]}"; do echo "note: $n"; done
echo "run = one \`run\` invocation (create+start+wait+delete); c+s+w+d = create, start, wait for exit, delete."
echo "peak = the container memory cgroup's max usage after /bin/true; sleeping = its usage 0.5 s into sleep 30;"
echo "  both the lowest of 5. The kernel charges a cgroup in per-CPU batches of 256 KiB, so a peak of 0.26 MB"
echo "  means \"within the first batch\"; the sleeping figure is finer, as batches drain."
