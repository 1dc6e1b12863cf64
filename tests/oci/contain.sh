#!/usr/bin/env bash
# Containment (issue 8): a config must never reach the host. Sysctls only of namespaces the
# container owns; cgroupsPath normalised and resolved per hierarchy; values that cannot be
# applied refused; mount destinations resolved inside the root.
#
# Nothing here changes the host: a sysctl the runtime must refuse is asked for with the value
# the host already has (so a runtime that wrongly writes it writes what was there), and every
# cgroup is a throwaway one with "oci-contain" in its name, removed at exit.
source "$(dirname "$0")/common.bash"
oci_require
CGPREFIX=/capsule-oci-contain-$$

# refused NAME REGEX ID BUNDLE: create fails with one line matching REGEX and leaves nothing.
refused() {
	local name=$1 re=$2 id=$3 b=$4 left
	track "$id"
	if expect_rt_error "$name" "$re" rt create --bundle "$b" "$id"; then
		left=$(leftovers "$id" "$b")
		[ -z "$left" ] || { fail "$name" "refused, but left: $left"; rt delete --force "$id" >/dev/null 2>&1; }
	else
		rt delete --force "$id" >/dev/null 2>&1
	fi
	# for the comparison with the anchors (RUNTIME=runc|crun): what they said
	is_capsule || echo "note: $name: $(basename "$RUNTIME"): $(head -c 200 "$TMPD/$name.err" | tr '\n' ' ')"
}

# ---------------------------------------------------------------------------------------------
# linux.sysctl: only keys of a namespace the container has of its own.
# host_same KEY: {"KEY": <the host's current value>} as a jq object argument.
host_same() { jq -cn --arg k "$1" --arg v "$(cat "/proc/sys/${1//.//}")" '{($k): $v}'; }

sysctl_refused() {
	local name=$1 key=$2 filter=${3:-.}
	new_bundle "$name" -- true
	cfg "$BUNDLE" ".linux.sysctl = \$s | $filter" --argjson s "$(host_same "$key")"
	refused "$name" "${4:-sysctl.*$key}" "$name" "$BUNDLE"
}
# not namespaced at all: would be the host's
sysctl_refused oci-sysctl-host-vm vm.swappiness
sysctl_refused oci-sysctl-host-kernel kernel.printk_ratelimit_burst
# the same key spelt with slashes
new_bundle oci-sysctl-host-slash -- true
cfg "$BUNDLE" '.linux.sysctl = {"vm/swappiness": $v}' --arg v "$(cat /proc/sys/vm/swappiness)"
refused oci-sysctl-host-slash 'sysctl.*vm/swappiness' oci-sysctl-host-slash "$BUNDLE"
# namespaced, but the namespace is the host's: not in linux.namespaces ...
sysctl_refused oci-sysctl-no-netns net.ipv4.ip_forward 'del(.linux.namespaces[] | select(.type == "network"))'
sysctl_refused oci-sysctl-no-ipcns kernel.msgmax 'del(.linux.namespaces[] | select(.type == "ipc"))'
sysctl_refused oci-sysctl-no-mqns fs.mqueue.msg_max 'del(.linux.namespaces[] | select(.type == "ipc"))'
sysctl_refused oci-sysctl-no-utsns kernel.domainname 'del(.linux.namespaces[] | select(.type == "uts")) | del(.hostname)'
# ... or joined by path, and that path is the runtime's own (the host's)
sysctl_refused oci-sysctl-host-netns-path net.ipv4.ip_forward \
	'(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: "/proc/self/ns/net"}'

# control: each namespaced kind with its own namespace is set inside the container only
new_bundle oci-sysctl-owned -- sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname'
cfg "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4097", "fs.mqueue.msg_max": "17", "kernel.domainname": "oci-contain"}'
host_before="$(cat /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname)"
ct_run oci-sysctl-owned oci-sysctl-owned "$BUNDLE"
if [ $RC -ne 0 ] || [ "$(tr '\n' ' ' <"$OUT")" != "1 4097 17 oci-contain " ]; then
	fail oci-sysctl-owned "exit $RC, got '$(said)', want '1 4097 17 oci-contain'"
elif [ "$host_before" != "$(cat /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname)" ]; then
	fail oci-sysctl-owned "the host's values changed"
else
	pass oci-sysctl-owned
fi

# ---------------------------------------------------------------------------------------------
# cgroupsPath. v1 hierarchies of this host as "MOUNTPOINT CONTROLLERS" (e.g. "/sys/fs/cgroup/cpu cpu",
# "/sys/fs/cgroup/systemd name=systemd"); the cgroup2 mount as "MOUNTPOINT".
v1_hiers() {
	awk '{ for (i = 1; $i != "-"; i++); if ($(i + 1) != "cgroup") next
		n = split($(i + 3), o, ","); c = ""
		for (k = 1; k <= n; k++) if (o[k] !~ /^(rw|ro|xattr|clone_children|noprefix|release_agent=.*|cpuset_v2_mode|favordynmods)$/) c = c (c ? "," : "") o[k]
		print $5, c }' /proc/self/mountinfo
}
# (none for crun, which common.bash runs with the hybrid cgroup2 mount hidden)
v2_mount() { [ -n "${CAPSULE_OCI_V1ONLY:-}" ] && return 0; awk '{ for (i = 1; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -n 1; }
# own_cg CONTROLLERS [PID]: the process's cgroup in that v1 hierarchy ("" for the cgroup2 line).
own_cg() { awk -F: -v c="$1" '$2 == c { print $3 }' "/proc/${2:-self}/cgroup"; }

# mk_cg DIR: a cgroup directory (cpuset ones get their parent's cpus and mems, or nothing can join).
mk_cg() {
	local d=$1 p f
	[ -d "$d" ] && return 0
	mk_cg "$(dirname "$d")" || return 1
	mkdir "$d" || return 1
	for f in cpuset.cpus cpuset.mems; do
		[ -e "$d/$f" ] && cat "$(dirname "$d")/$f" >"$d/$f"
	done
	return 0
}
# Our own throwaway cgroups below the caller's cgroups (rm_cgs removes them, deepest first).
OWN_CGS=()
rm_cgs() {
	local d i
	for d in "${OWN_CGS[@]}"; do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
		for ((i = 0; i < 30; i++)); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
	done
}
trap 'rm_cgs; oci_cleanup' EXIT

# in_sandbox NAME CMD...: CMD in a cgroup namespace whose root is the throwaway cgroup
# $CGPREFIX/NAME of every hierarchy, with the hierarchies mounted again in a private mount
# namespace: a runtime that wrongly takes "/x/.." for the root cgroup (and kills all of it at
# delete --force) reaches only the sandbox. Prints nothing; CMD's status is returned.
in_sandbox() {
	local name=$1 mp c hf=$TMPD/hierarchies; shift
	{ v1_hiers; v2_mount; } >"$hf"
	# below our own cgroup in each hierarchy: the test stays inside the limits it was given
	while read -r mp c; do
		OWN_CGS+=("$mp$(own_cg "$c")$CGPREFIX")
		mk_cg "$mp$(own_cg "$c")$CGPREFIX/$name" || return 1
	done <"$hf"
	# crun 1.8.1 freezes the cgroup it kills, so when it takes the sandbox's root for the
	# container's it freezes itself (and hangs, unkillable): thaw whatever freezes in there.
	local fz=() wd
	while read -r mp c; do
		if [ -z "$c" ]; then [ -e "$mp$(own_cg "")$CGPREFIX/$name/cgroup.freeze" ] && fz+=("$mp$(own_cg "")$CGPREFIX/$name/cgroup.freeze")
		elif [[ ",$c," == *,freezer,* ]]; then fz+=("$mp$(own_cg "$c")$CGPREFIX/$name/freezer.state"); fi
	done <"$hf"
	( while sleep 0.5; do for f in "${fz[@]}"; do
		case $(cat "$f" 2>/dev/null) in FROZEN|FREEZING) echo THAWED >"$f" ;; 1) echo 0 >"$f" ;; esac
	done; done ) 2>/dev/null &
	wd=$!
	(
		while read -r mp c; do
			echo "$BASHPID" >"$mp$(own_cg "$c")$CGPREFIX/$name/cgroup.procs" || exit 1
		done <"$hf"
		# (a hierarchy cannot be mounted on itself: a fresh tmpfs over /sys/fs/cgroup first)
		exec unshare -C -m --propagation private bash -c '
			mount -t tmpfs -o size=64k,mode=755 oci-contain-sandbox /sys/fs/cgroup || exit 1
			while read -r mp c; do
				mkdir -p "$mp" || exit 1
				if [ -z "$c" ]; then mount -t cgroup2 cgroup2 "$mp"; else mount -t cgroup -o "$c" cgroup "$mp"; fi || exit 1
			done <"$0"
			exec "$@"' "$hf" "$@"
	)
	local rc=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	return $rc
}

# Paths that leave their parent or name a hierarchy's root are refused (create, in the sandbox).
# A runtime that accepts "/" or "/x/.." records the root cgroup as the container's: its
# delete --force then kills every process of that cgroup's subtree. So these containers live in
# their own state root, are never tracked for the EXIT trap (which runs outside the sandbox),
# and are deleted inside the sandbox only.
SBROOT=$TMPD/sandbox-state
# sb_refused NAME REGEX CGROUPSPATH
sb_refused() {
	local name=$1 re=$2 cp=$3 b rc err=$TMPD/$1.err
	new_bundle "$name" -- true
	cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$cp"
	b=$BUNDLE
	in_sandbox "$name" timeout -k 5 30 "$RUNTIME" --root "$SBROOT" create --bundle "$b" "$name" >/dev/null 2>"$err" </dev/null
	rc=$?
	in_sandbox "$name" timeout -k 5 30 "$RUNTIME" --root "$SBROOT" delete --force "$name" >/dev/null 2>&1
	if [ $rc -eq 0 ]; then
		fail "$name" "cgroupsPath '$cp' accepted, want an error"
	elif is_capsule && ! grep -Eq -- "^capsule: .*($re)" "$err"; then
		fail "$name" "exit $rc, error does not match /$re/: $(head -c 300 "$err" | tr '\n' '|')"
	else
		pass "$name"
	fi
	is_capsule || echo "note: $name: $(basename "$RUNTIME"): exit $rc: $(head -c 200 "$err" | tr '\n' ' ')"
}
sb_refused oci-cgpath-trailing-dotdot 'cgroupsPath.*\.\.' "$CGPREFIX/a/sub/.."
sb_refused oci-cgpath-root-dotdot 'cgroupsPath' /x/..
sb_refused oci-cgpath-root 'cgroupsPath.*root' /
sb_refused oci-cgpath-rel-dotdot 'cgroupsPath.*\.\.' ../oci-contain-up
sb_refused oci-cgpath-dot 'cgroupsPath.*\.' "$CGPREFIX/./b"

# control: doubled and trailing slashes are only normalised
new_bundle oci-cgpath-slashes -- sleep 30
cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX//slashes/"
ct_create oci-cgpath-slashes "$BUNDLE"
pid=$(ct_pid oci-cgpath-slashes)
got=$(own_cg memory "$pid" 2>/dev/null)
if [ $RC -ne 0 ]; then
	fail oci-cgpath-slashes "create exit $RC: $(head -c 300 "$TMPD/oci-cgpath-slashes.create")"
elif [ "$got" != "$CGPREFIX/slashes" ]; then
	fail oci-cgpath-slashes "memory cgroup '$got', want $CGPREFIX/slashes"
else
	pass oci-cgpath-slashes
fi
rt delete --force oci-cgpath-slashes >/dev/null 2>&1

# A relative cgroupsPath is resolved in every hierarchy against the caller's own cgroup THERE:
# a caller in memory:<own>/caller/a/b but cpu:<own>/caller-cpu (each hierarchy different) gets
# its container below each of those, never outside its memory cgroup.
REL=${CGPREFIX#/}/rel
mem_mp=$(v1_hiers | awk '$2 == "memory" { print $1 }')
cpu_mp=$(v1_hiers | awk '$2 ~ /(^|,)cpu(,|$)/ { print $1; c = $2 } END { print c }' | head -n 1)
cpu_c=$(v1_hiers | awk -v m="$cpu_mp" '$1 == m { print $2 }')
if [ -z "$mem_mp" ] || [ -z "$cpu_mp" ]; then
	skip oci-cgpath-relative-per-hierarchy "no cgroup v1 memory and cpu hierarchies here"
else
	mem_caller=$(own_cg memory)$CGPREFIX/caller/a/b
	cpu_caller=$(own_cg "$cpu_c")$CGPREFIX/caller-cpu
	OWN_CGS+=("$mem_mp$(own_cg memory)$CGPREFIX" "$cpu_mp$(own_cg "$cpu_c")$CGPREFIX")
	mk_cg "$mem_mp$mem_caller" && mk_cg "$cpu_mp$cpu_caller"
	new_bundle relcg -- sleep 60
	cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$REL"
	track relcg
	(
		echo "$BASHPID" >"$mem_mp$mem_caller/cgroup.procs" && echo "$BASHPID" >"$cpu_mp$cpu_caller/cgroup.procs" &&
			cp "/proc/$BASHPID/cgroup" "$TMPD/relcg.caller" &&
			exec timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" relcg
	) >"$TMPD/relcg.create" 2>&1 </dev/null
	RC=$?
	pid=$(ct_pid relcg)
	bad="" checked=0
	if [ $RC -eq 0 ] && [ -n "$pid" ] && [ "$pid" != 0 ]; then
		# every v1 hierarchy of the caller: the container is at <caller's cgroup there>/REL
		while IFS=: read -r n c p; do
			[ -z "$c" ] && continue
			got=$(own_cg "$c" "$pid")
			want=${p%/}/$REL
			[ "$got" = "$want" ] || bad+="$c: $got, want $want; "
			checked=$((checked + 1))
		done <"$TMPD/relcg.caller"
	fi
	rt delete --force relcg >/dev/null 2>&1
	gone=""
	for d in "$mem_mp$mem_caller/$REL" "$cpu_mp$cpu_caller/$REL"; do [ -d "$d" ] && gone+="$d "; done
	if [ $RC -ne 0 ]; then
		fail oci-cgpath-relative-per-hierarchy "create exit $RC: $(head -c 300 "$TMPD/relcg.create" | tr '\n' '|')"
	elif [ -n "$bad" ] || [ $checked -lt 2 ]; then
		fail oci-cgpath-relative-per-hierarchy "checked $checked hierarchies: $bad"
	elif [ -n "$gone" ]; then
		fail oci-cgpath-relative-per-hierarchy "delete left $gone"
	else
		pass oci-cgpath-relative-per-hierarchy
	fi
fi

# ---------------------------------------------------------------------------------------------
# Values the host cannot apply are refused, never dropped; those it can are applied.
# res_refused NAME REGEX JQ-FILTER
res_refused() {
	new_bundle "$1" -- true
	cfg "$BUNDLE" "$3"
	refused "$1" "$2" "$1" "$BUNDLE"
}
has_v1() { v1_hiers | awk -v c="$1" '{ n = split($2, o, ","); for (k = 1; k <= n; k++) if (o[k] == c) f = 1 } END { exit !f }'; }

# net_cls / net_prio: where this host has no such hierarchy, refused ...
if has_v1 net_cls; then
	skip oci-res-classid-refused "net_cls is mounted here (the refusal needs a host without it)"
else
	res_refused oci-res-classid-refused 'network.classID.*net_cls' '.linux.resources.network.classID = 1048577'
fi
if has_v1 net_prio; then
	skip oci-res-priorities-refused "net_prio is mounted here"
else
	res_refused oci-res-priorities-refused 'network.priorities.*net_prio' \
		'.linux.resources.network.priorities = [{"name": "lo", "priority": 3}]'
fi
res_refused oci-res-priorities-badname 'priorities\[0\]\.name' \
	'.linux.resources.network.priorities = [{"name": "lo 7\nx", "priority": 3}]'

# ... and applied where it has one: net_cls and net_prio mounted for this test only, in a private
# mount namespace below $TMPD (the hierarchy exists while mounted and holding our cgroup; the test
# removes both before the namespace goes).
NET_SH='
	set -u
	for c in net_cls net_prio; do
		mkdir -p "$TMPD/$c" && mount -t cgroup -o "$c" "oci-contain-$c" "$TMPD/$c" || { echo "mount-failed $c"; exit 0; }
	done
	timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" netres >"$TMPD/netres.create" 2>&1 </dev/null
	echo "create=$?"
	pid=$("$RUNTIME" --root "$ROOT" state netres 2>/dev/null | jq -r .pid)
	echo "classid=$(cat "$TMPD/net_cls$CGPREFIX/netres/net_cls.classid" 2>&1)"
	echo "prio=$(grep "^lo " "$TMPD/net_prio$CGPREFIX/netres/net_prio.ifpriomap" 2>&1)"
	echo "procs=$(cat "$TMPD/net_cls$CGPREFIX/netres/cgroup.procs" 2>&1 | tr "\n" " ")pid=$pid"
	"$RUNTIME" --root "$ROOT" delete --force netres >/dev/null 2>&1
	# A v1 hierarchy dies at its last umount only if no child cgroup is left, dying ones
	# included: wait for its count to be 1 (the root) before the umount.
	col() { awk -v c="$1" -v k="$2" "\$1 == c { print \$k }" /proc/cgroups; }
	for c in net_cls net_prio; do
		[ -d "$TMPD/$c$CGPREFIX/netres" ] && echo "left $c"
		find "$TMPD/$c$CGPREFIX" -depth -type d -exec rmdir {} + 2>/dev/null
		for i in $(seq 100); do [ "$(col "$c" 3)" = 1 ] && break; sleep 0.1; done
		umount "$TMPD/$c"
		for i in $(seq 50); do [ "$(col "$c" 2)" = 0 ] && break; sleep 0.1; done
		[ "$(col "$c" 2)" = 0 ] || echo "hierarchy-left $c: $(grep "^$c" /proc/cgroups)"
	done
	exit 0'
new_bundle netres -- sleep 30
cfg "$BUNDLE" '.linux.resources.network = {"classID": 1048577, "priorities": [{"name": "lo", "priority": 3}]}'
track netres
TMPD=$TMPD RUNTIME=$RUNTIME ROOT=$ROOT BUNDLE=$BUNDLE CGPREFIX=$CGPREFIX \
	unshare -m --propagation private bash -c "$NET_SH" >"$TMPD/netres.out" 2>&1
OUT=$TMPD/netres.out
if grep -q '^mount-failed' "$OUT"; then
	skip oci-res-network-applied "cannot mount net_cls/net_prio here: $(said)"
elif ! grep -qx 'create=0' "$OUT"; then
	fail oci-res-network-applied "create failed: $(head -c 300 "$TMPD/netres.create" | tr '\n' '|')"
elif ! grep -qx 'classid=1048577' "$OUT" || ! grep -qx 'prio=lo 3' "$OUT"; then
	fail oci-res-network-applied "not applied: $(said)"
elif ! grep -Eq '^procs=([0-9]+) pid=\1$' "$OUT"; then
	fail oci-res-network-applied "the init is not in the net_cls cgroup: $(said)"
elif grep -q '^left' "$OUT"; then
	fail oci-res-network-applied "delete left a cgroup: $(said)"
elif grep -q '^hierarchy-left' "$OUT"; then
	fail oci-res-network-applied "the test's net_cls/net_prio hierarchy outlived its mount: $(said)"
else
	pass oci-res-network-applied
fi

# memory.kernelTCP: applied where the v1 memory controller has the TCP limit
if ! has_v1 memory || [ ! -e "$mem_mp/memory.kmem.tcp.limit_in_bytes" ]; then
	res_refused oci-res-kerneltcp-refused 'kernelTCP' '.linux.resources.memory.kernelTCP = 16777216'
else
	new_bundle kerneltcp -- sleep 30
	cfg "$BUNDLE" '.linux.resources.memory.kernelTCP = 16777216'
	ct_create kerneltcp "$BUNDLE"
	got=$(cat "$mem_mp$CGPREFIX/kerneltcp/memory.kmem.tcp.limit_in_bytes" 2>&1)
	if [ $RC -ne 0 ]; then
		fail oci-res-kerneltcp-applied "create exit $RC: $(head -c 300 "$TMPD/kerneltcp.create" | tr '\n' '|')"
	elif [ "$got" != 16777216 ]; then
		fail oci-res-kerneltcp-applied "memory.kmem.tcp.limit_in_bytes is '$got', want 16777216"
	else
		pass oci-res-kerneltcp-applied
	fi
	rt delete --force kerneltcp >/dev/null 2>&1
fi
# memory.kernel: refused where the kernel ignores it (memory.kmem.limit_in_bytes does not read back)
probe=$mem_mp$(own_cg memory)$CGPREFIX/kmem-probe
OWN_CGS+=("$mem_mp$(own_cg memory)$CGPREFIX")
kmem=unknown
if has_v1 memory && mk_cg "$probe" && [ -e "$probe/memory.kmem.limit_in_bytes" ]; then
	echo 16777216 >"$probe/memory.kmem.limit_in_bytes" 2>/dev/null
	[ "$(cat "$probe/memory.kmem.limit_in_bytes")" = 16777216 ] && kmem=applies || kmem=ignored
	rmdir "$probe"
fi
case $kmem in
ignored) res_refused oci-res-kernel-refused 'memory.kernel.*ignores' '.linux.resources.memory.kernel = 16777216' ;;
*) skip oci-res-kernel-refused "this kernel's kernel memory limit: $kmem (the refusal needs one that ignores it)" ;;
esac

# LSM labels: refused without the LSM (this host's LSMs are in /sys/kernel/security/lsm, or
# the module parameter / selinuxfs when securityfs is not mounted)
lsm_on() {
	local l
	l=$(unshare -m --propagation private sh -c 'mount -t securityfs none /sys/kernel/security 2>/dev/null; cat /sys/kernel/security/lsm 2>/dev/null')
	case ",$l," in *",$1,"*) return 0 ;; esac
	return 1
}
if lsm_on apparmor; then
	skip oci-lsm-apparmor-refused "AppArmor is enabled here"
else
	res_refused oci-lsm-apparmor-refused 'apparmorProfile.*AppArmor' '.process.apparmorProfile = "oci-contain-profile"'
fi
if lsm_on selinux; then
	skip oci-lsm-selinux-refused "SELinux is enabled here"
	skip oci-lsm-mountlabel-refused "SELinux is enabled here"
else
	res_refused oci-lsm-selinux-refused 'selinuxLabel.*SELinux' '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"'
	res_refused oci-lsm-mountlabel-refused 'mountLabel.*SELinux' '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
fi

# ---------------------------------------------------------------------------------------------
# A cgroupsPath shared with a process that is not the container's: create warns, delete --force
# kills only the container's processes and leaves the cgroup (which it did not make).
SHARED=$CGPREFIX/shared
sh_dirs=()
while read -r mp c; do sh_dirs+=("$mp$SHARED"); mk_cg "$mp$SHARED"; done < <(v1_hiers; v2_mount)
( for d in "${sh_dirs[@]}"; do echo "$BASHPID" >"$d/cgroup.procs" || exit 1; done; exec sleep 300 ) </dev/null >/dev/null 2>&1 &
foreign=$!
sleep 0.2
new_bundle shared -- sleep 60
cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$SHARED"
ct_create shared "$BUNDLE"
pid=$(ct_pid shared)
in_shared=$(own_cg memory "$pid")
rt delete --force shared >"$TMPD/shared.delete" 2>&1
drc=$?
if [ $RC -ne 0 ]; then
	fail oci-cgpath-shared-delete "create exit $RC: $(head -c 300 "$TMPD/shared.create" | tr '\n' '|')"
elif [ "$in_shared" != "$SHARED" ]; then
	fail oci-cgpath-shared-delete "the init is in '$in_shared', want $SHARED"
elif [ $drc -ne 0 ]; then
	fail oci-cgpath-shared-delete "delete --force exit $drc: $(head -c 300 "$TMPD/shared.delete" | tr '\n' '|')"
elif ! kill -0 "$foreign" 2>/dev/null; then
	fail oci-cgpath-shared-delete "delete --force killed a process of the cgroup that is not the container's"
elif ! gone "$pid"; then
	fail oci-cgpath-shared-delete "the container's init $pid survived delete --force"
elif [ ! -d "${sh_dirs[0]}" ]; then
	fail oci-cgpath-shared-delete "delete removed the shared cgroup ${sh_dirs[0]}"
else
	pass oci-cgpath-shared-delete
fi
if is_capsule; then
	grep -q '^capsule: warning: .*cgroup.*already holds' "$TMPD/shared.create" && pass oci-cgpath-shared-warns ||
		fail oci-cgpath-shared-warns "create said: $(head -c 300 "$TMPD/shared.create" | tr '\n' '|')"
else
	echo "note: oci-cgpath-shared: $(basename "$RUNTIME"): create: $(head -c 300 "$TMPD/shared.create" | tr '\n' ' ')"
fi
kill -9 "$foreign" 2>/dev/null
wait "$foreign" 2>/dev/null

# ---------------------------------------------------------------------------------------------
# Mount destinations: proc and sysfs go on a real directory of the rootfs only; a symlink there
# (/sys -> /etc, /proc -> ../../..) is refused, and nothing is mounted anywhere else.
mnt_refused() {
	local name=$1 dest=$2 target=$3 left
	new_bundle "$name" -- true
	rm -rf "$BUNDLE/rootfs$dest"
	ln -s "$target" "$BUNDLE/rootfs$dest"
	refused "$name" "${dest#/}.*symlink|symlink.*${dest#/}" "$name" "$BUNDLE"
	left=$(awk -v r="$BUNDLE" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$left" ] || mountpoint -q /etc; then
		fail "$name-nothing-mounted" "mounts left: ${left:-/etc is a mount point}"
	else
		pass "$name-nothing-mounted"
	fi
}
mnt_refused oci-mount-sys-symlink /sys /etc
mnt_refused oci-mount-proc-symlink /proc ../../../../../tmp
