#!/usr/bin/env bash
# cgroup resources: values written on v1 (and on a pure v2 host), a memory limit that OOM-kills,
# a pids limit that makes fork fail, update --resources.
source "$(dirname "$0")/common.bash"
oci_require

LIMITS='.linux.resources += {
	"memory": {"limit": 67108864, "swap": 67108864},
	"cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
	"pids": {"limit": 50} }'

v2=0
[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && v2=1

# want FILE VALUE: appends a mismatch to $bad.
want() {
	local got; got=$(cat "$1" 2>/dev/null || echo "<missing>")
	[ "$got" = "$2" ] || bad+="$1=$got (want $2); "
}

new_bundle limits -- sleep 60
cfg "$BUNDLE" "$LIMITS"
rel=$CGPREFIX/limits
ct_create limits "$BUNDLE"
pid=$(ct_pid limits)
if [ $v2 -eq 1 ]; then
	skip oci-cgroup-v1 "host is pure cgroup v2"
elif [ $RC -ne 0 ]; then
	fail oci-cgroup-v1 "create exit $RC: $(head -c 300 "$TMPD/limits.create")"
else
	bad=""
	want "$(cg_dir memory "$rel")/memory.limit_in_bytes" 67108864
	[ -e "$(cg_dir memory /)/memory.memsw.limit_in_bytes" ] &&
		want "$(cg_dir memory "$rel")/memory.memsw.limit_in_bytes" 67108864
	want "$(cg_dir cpu "$rel")/cpu.shares" 512
	want "$(cg_dir cpu "$rel")/cpu.cfs_quota_us" 50000
	want "$(cg_dir cpu "$rel")/cpu.cfs_period_us" 100000
	want "$(cg_dir cpuset "$rel")/cpuset.cpus" 0
	want "$(cg_dir pids "$rel")/pids.max" 50
	for c in memory cpu cpuset pids devices freezer; do
		grep -qx "$pid" "$(cg_dir $c "$rel")/cgroup.procs" 2>/dev/null || bad+="pid $pid not in $c$rel; "
	done
	[ -z "$bad" ] && pass oci-cgroup-v1 || fail oci-cgroup-v1 "$bad"
fi

# The same on a pure cgroup v2 host (memory.max, memory.swap.max, cpu.max, cpuset.cpus, pids.max).
if [ $v2 -eq 0 ]; then
	skip oci-cgroup-v2 "host is not pure cgroup v2 (hybrid: v1 controllers; v2 is covered on a modern host)"
elif [ $RC -ne 0 ]; then
	fail oci-cgroup-v2 "create exit $RC: $(head -c 300 "$TMPD/limits.create")"
else
	bad=""
	d=/sys/fs/cgroup$rel
	want "$d/memory.max" 67108864
	want "$d/memory.swap.max" 0
	want "$d/cpu.max" "50000 100000"
	want "$d/cpuset.cpus" 0
	want "$d/pids.max" 50
	grep -qx "$pid" "$d/cgroup.procs" 2>/dev/null || bad+="pid $pid not in $d; "
	[ -z "$bad" ] && pass oci-cgroup-v2 || fail oci-cgroup-v2 "$bad"
fi

# update --resources: a new pids limit and memory limit land in the cgroup.
if [ $RC -eq 0 ]; then
	echo '{"pids": {"limit": 20}, "memory": {"limit": 50331648, "swap": 50331648}}' >"$TMPD/update.json"
	if ! rt update --resources "$TMPD/update.json" limits >"$TMPD/update.out" 2>&1; then
		fail oci-update "exit: $(head -c 300 "$TMPD/update.out")"
	else
		bad=""
		if [ $v2 -eq 1 ]; then
			want "/sys/fs/cgroup$rel/pids.max" 20
			want "/sys/fs/cgroup$rel/memory.max" 50331648
		else
			want "$(cg_dir pids "$rel")/pids.max" 20
			want "$(cg_dir memory "$rel")/memory.limit_in_bytes" 50331648
		fi
		[ -z "$bad" ] && pass oci-update || fail oci-update "$bad"
	fi
else
	fail oci-update "no container to update"
fi
# delete removes the container's cgroup in every hierarchy (each v1 controller mount, and the
# v2 tree), not only in the controllers that had limits. Those it had before delete must exist
# (else there is nothing to prove).
cg_dirs() {
	local d
	for d in /sys/fs/cgroup/*"$rel" /sys/fs/cgroup"$rel"; do
		[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
		[ -d "$d" ] && echo "$d"
	done
}
cgbefore=$(cg_dirs | tr '\n' ' ')
rt delete --force limits >"$TMPD/limits.delete" 2>&1
delrc=$?
cgleft=$(cg_dirs | tr '\n' ' ')
if [ $RC -ne 0 ]; then
	fail oci-cgroup-removed "no container: create exit $RC"
elif [ $delrc -ne 0 ]; then
	fail oci-cgroup-removed "delete --force exit $delrc: $(head -c 300 "$TMPD/limits.delete")"
elif [ $v2 -eq 0 ] && [[ "$cgbefore" != *"/memory$rel "* || "$cgbefore" != *"/freezer$rel "* ]]; then
	fail oci-cgroup-removed "before delete the container had no memory/freezer cgroup: $cgbefore"
elif [ $v2 -eq 1 ] && [ -z "$cgbefore" ]; then
	fail oci-cgroup-removed "before delete the container had no cgroup $rel"
elif [ -n "$cgleft" ]; then
	fail oci-cgroup-removed "delete left cgroups: $cgleft (had $cgbefore)"
else
	pass oci-cgroup-removed
fi

# --- memory: 32 MiB (no swap); dd with a 64 MiB buffer is OOM-killed, an 8 MiB one is not.
MEM='.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
new_bundle oomok -- dd if=/dev/zero of=/dev/null bs=8M count=4
cfg "$BUNDLE" "$MEM"
ct_run oomok oomok "$BUNDLE" 60
okrc=$RC okout=$(said)
new_bundle oom -- dd if=/dev/zero of=/dev/null bs=64M count=1
cfg "$BUNDLE" "$MEM"
ct_run oom oom "$BUNDLE" 60
if [ $okrc -ne 0 ]; then
	fail oci-memory-oom "control (8 MiB buffer under the limit) failed: exit $okrc: $okout"
elif [ $RC -ne 137 ]; then
	fail oci-memory-oom "exit $RC, want 137 (SIGKILL by the OOM killer): $(said)"
else
	pass oci-memory-oom
fi

# The OOM kill is recorded in the container's memory cgroup (oom_kill counter).
new_bundle oomev -- dd if=/dev/zero of=/dev/null bs=64M count=1
cfg "$BUNDLE" "$MEM"
ct_create oomev "$BUNDLE"
rt start oomev >/dev/null 2>&1
wait_status oomev stopped 100
if [ $v2 -eq 1 ]; then f=/sys/fs/cgroup$CGPREFIX/oomev/memory.events; else f=$(cg_dir memory "$CGPREFIX/oomev")/memory.oom_control; fi
n=$(awk '$1 == "oom_kill" { print $2 }' "$f" 2>/dev/null)
if [ $RC -ne 0 ]; then
	fail oci-memory-oom-event "create exit $RC: $(head -c 300 "$TMPD/oomev.create")"
elif [ "${n:-0}" -lt 1 ]; then
	fail oci-memory-oom-event "status $(ct_state oomev); $f says oom_kill '${n:-<missing>}'"
else
	pass oci-memory-oom-event
fi
rt delete --force oomev >/dev/null 2>&1

# --- pids: with pids.limit 8, starting 20 background sleeps fails to fork; without, all start.
FORK='n=0; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 5 & n=$((n+1)); done; echo started=$n'
new_bundle pidsok -- sh -c "$FORK"
ct_run pidsok pidsok "$BUNDLE"
okrc=$RC okout=$(said)
new_bundle pids -- sh -c "$FORK"
cfg "$BUNDLE" '.linux.resources.pids = {"limit": 8}'
ct_run pids pids "$BUNDLE"
if [ $okrc -ne 0 ] || ! grep -q 'started=20' "$TMPD/pidsok.out"; then
	fail oci-pids-limit "control without a limit failed: exit $okrc: $okout"
elif grep -q 'started=20' "$OUT"; then
	fail oci-pids-limit "all 20 forks succeeded under pids.limit 8: $(said)"
elif ! grep -Eiq "can't fork|resource temporarily unavailable" "$OUT"; then
	fail oci-pids-limit "no fork failure reported: exit $RC: $(said)"
else
	pass oci-pids-limit
fi

# hugepageLimits: hugetlb.<size>.limit_in_bytes under a v1 hugetlb hierarchy, hugetlb.<size>.max
# on v2; on this hybrid host the controller lives in the v2 "unified" mount.
hp_file() {
	local f
	for f in "$(cg_dir hugetlb "$1")/hugetlb.2MB.limit_in_bytes" "/sys/fs/cgroup/unified$1/hugetlb.2MB.max" \
		"/sys/fs/cgroup$1/hugetlb.2MB.max"; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}
if [ ! -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
	skip oci-hugetlb-limit "the kernel has no 2 MiB huge pages"
elif ! grep -qw hugetlb /proc/cgroups; then
	skip oci-hugetlb-limit "no hugetlb cgroup controller"
else
	new_bundle huge -- sleep 60
	cfg "$BUNDLE" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	ct_create huge "$BUNDLE"
	if [ $RC -ne 0 ]; then
		fail oci-hugetlb-limit "create exit $RC: $(head -c 300 "$TMPD/huge.create")"
	elif ! f=$(hp_file "$CGPREFIX/huge"); then
		fail oci-hugetlb-limit "no hugetlb.2MB limit file for cgroup $CGPREFIX/huge"
	elif [ "$(cat "$f")" != 4194304 ]; then
		fail oci-hugetlb-limit "$f = $(cat "$f"), want 4194304"
	else
		pass oci-hugetlb-limit
	fi
	rt delete --force huge >/dev/null 2>&1
fi
