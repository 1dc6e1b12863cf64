# Shared setup for the OCI runtime suites (tests/oci/*.sh source this; it is not a suite itself).
#
# RUNTIME is the runtime under test: by default Capsule's runc-compatible symlink
# $CAPSULE_ROOT/$B/capsule-runtime. The suites are proven against the Debian anchors with
#   RUNTIME=runc tests/run tests/oci     RUNTIME=crun tests/run tests/oci
# Checks of the error-message format ("capsule: <thing>: <why>", exit status 1) apply only
# when the runtime is Capsule; for the anchors a non-zero exit is enough.
#
# Every suite gets its own --root state directory and cgroup prefix under $TMPD, and an EXIT
# trap that force-deletes its containers and removes its cgroups and mounts even on failure.

: "${B:=build}"
: "${CAPSULE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
case $B in /*) : "${RUNTIME:=$B/capsule-runtime}" ;; *) : "${RUNTIME:=$CAPSULE_ROOT/$B/capsule-runtime}" ;; esac
export B CAPSULE_ROOT RUNTIME

# crun 1.8 refuses a hybrid layout whose cgroup2 mount holds controllers (here: hugetlb), even
# with --cgroup-manager=disabled. To let the anchor run the same suites, re-run the suite in a
# private mount namespace where a scratch tmpfs hides that mount, so crun sees plain cgroup v1
# (it still makes directories for the unnamed v2 entry of /proc/self/cgroup: they land in the
# scratch tmpfs and vanish with the namespace). Capsule and runc get the host as it is.
if [ "$(basename "$RUNTIME")" = crun ] && [ -z "${CAPSULE_OCI_V1ONLY:-}" ] &&
   grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	export CAPSULE_OCI_V1ONLY=1
	exec unshare -m --propagation private bash -c \
		'mount -t tmpfs -o size=1m capsule-v1only /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$0" "$@"
fi

# shellcheck source=../lib.sh
source "$CAPSULE_ROOT/tests/lib.sh"

SUITE=${SUITE:-oci-$(basename "$0" .sh)}
ROOT=$TMPD/state
CGPREFIX=/capsule-oci-test-$$
OCI_IDS=()

is_capsule() { [[ "$(basename "$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")")" == capsule* ]]; }

# The runtime with this suite's state root.
rt() { "$RUNTIME" --root "$ROOT" "$@"; }

oci_cleanup() {
	local id m d
	for id in "${OCI_IDS[@]}"; do
		timeout -k 2 10 "$RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
	done
	# Processes a broken runtime may have left in our cgroups.
	for d in /sys/fs/cgroup/*/"$CGPREFIX" /sys/fs/cgroup/"$CGPREFIX"; do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	# (killed processes take a moment to leave their cgroups: retry for up to 3 s)
	local i left
	for ((i = 0; i < 30; i++)); do
		left=0
		for d in /sys/fs/cgroup/*/"$CGPREFIX" /sys/fs/cgroup/"$CGPREFIX"; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] && left=1
		done
		[ $left -eq 0 ] && break
		sleep 0.1
	done
	# Mounts a broken runtime may have left under our bundles (deepest first).
	awk -v t="$TMPD" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$TMPD"
}
trap oci_cleanup EXIT

# A suite killed outright (SIGKILL runs no trap: a job killed with its process group, a hard
# timeout) leaves its cgroup prefix behind. Those of suites whose process is gone are removed
# here when empty (rmdir refuses a cgroup that still has processes; nothing is killed).
oci_sweep_stale_prefixes() {
	local d pid
	for d in /sys/fs/cgroup/*/capsule-oci-test-* /sys/fs/cgroup/capsule-oci-test-*; do
		[ -d "$d" ] || continue
		pid=${d##*-}
		[[ "$pid" =~ ^[0-9]+$ ]] && [ ! -d "/proc/$pid" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
oci_sweep_stale_prefixes

# oci_require: SKIP the whole suite (one line) when the runtime or the bundle's busybox is missing;
# FAIL it (one line) when the runtime is there but broken.
oci_require() {
	# An anchor that is not installed is something missing (SKIP); Capsule's own runtime missing
	# means the build is broken (FAIL).
	if ! command -v "$RUNTIME" >/dev/null 2>&1; then
		if is_capsule; then
			fail "$SUITE" "runtime $RUNTIME not found (run make)"
		else
			skip "$SUITE" "runtime $RUNTIME not found"
		fi
		exit 0
	fi
	# A runtime that cannot even print its version is broken, not missing: the suite fails.
	if ! "$RUNTIME" --version >/dev/null 2>&1; then
		fail "$SUITE" "$RUNTIME --version fails: $("$RUNTIME" --version 2>&1 | head -n 2 | head -c 200 | tr '\n' '|')"
		exit 0
	fi
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		skip "$SUITE" "no static /bin/busybox (busybox-static)"; exit 0
	fi
	if ! command -v jq >/dev/null; then
		skip "$SUITE" "jq not installed (scripts/deps)"; exit 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		skip "$SUITE" "needs root"; exit 0
	fi
	mkdir -p "$ROOT"
}

# new_bundle NAME [mkbundle options] [-- ARGS...]: a fresh bundle in $TMPD/NAME (path in $BUNDLE)
# whose cgroupsPath is $CGPREFIX/NAME. The rootfs is copied from one built per suite.
new_bundle() {
	local name=$1; shift
	if [ ! -d "$TMPD/rootfs.template/rootfs" ]; then
		"$CAPSULE_ROOT/scripts/mkbundle" --rootfs-only "$TMPD/rootfs.template" >/dev/null
	fi
	BUNDLE=$TMPD/$name
	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE"
	cp -a "$TMPD/rootfs.template/rootfs" "$BUNDLE/rootfs"
	"$CAPSULE_ROOT/scripts/mkbundle" --config-only "$BUNDLE" "$@" >/dev/null
	cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/$name"
}

# cfg BUNDLE FILTER [jq args...]: edit BUNDLE/config.json in place with jq.
cfg() {
	local b=$1 f=$2; shift 2
	jq "$@" "$f" "$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# jq_true FILTER [jq args/files]: FILTER holds for the (single) JSON input. Unlike plain jq -e,
# which jq 1.6 lets succeed when there is no input at all, empty input is false.
jq_true() { local f=$1; shift; jq -e -s "length > 0 and (.[0] | $f)" "$@" >/dev/null 2>&1; }

# Track an id for the cleanup trap.
track() { OCI_IDS+=("$1"); }

# ct_run NAME ID BUNDLE [T]: `run` in the foreground; output in $OUT, status in $RC.
ct_run() {
	local name=$1 id=$2 b=$3 t=${4:-30}
	track "$id"
	OUT=$TMPD/$name.out
	timeout -k 5 "$t" "$RUNTIME" --root "$ROOT" run --bundle "$b" "$id" >"$OUT" 2>&1 </dev/null
	RC=$?
}

# ct_create ID BUNDLE: create (output in $TMPD/ID.create); status in $RC.
ct_create() {
	track "$1"
	timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$2" "$1" \
		>"$TMPD/$1.create" 2>&1 </dev/null
	RC=$?
}

ct_state() { rt state "$1" 2>/dev/null | jq -r ".${2:-status}" 2>/dev/null; }
ct_pid() { ct_state "$1" pid; }

# wait_status ID STATUS [TENTHS]: poll state until STATUS (default budget 10 s).
wait_status() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		[ "$(ct_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# out_of NAME: the last $OUT, flattened to one line for a FAIL message.
said() { head -c 400 "$OUT" | tr '\n' '|'; }

# ns_inode PID TYPE: the namespace link of a process, e.g. "net:[4026531840]".
ns_inode() { readlink "/proc/$1/ns/$2"; }

# gone PID: the process has exited (or is a zombie awaiting its reaper) within 5 s.
gone() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -d "/proc/$1" ] || return 0
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# cg_dir CONTROLLER REL: the v1 directory of a controller for a cgroupsPath.
cg_dir() { echo "/sys/fs/cgroup/$1$2"; }

# leftovers ID BUNDLE: prints what a failed command left behind (state dir, cgroups, mounts).
leftovers() {
	local id=$1 b=$2 d what=""
	[ -e "$ROOT/$id" ] && what+="state dir $ROOT/$id; "
	for d in /sys/fs/cgroup/*/"$CGPREFIX"/"$(basename "$b")" /sys/fs/cgroup/"$CGPREFIX"/"$(basename "$b")"; do
		[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
		[ -d "$d" ] && what+="cgroup $d; "
	done
	if awk -v t="$b" 'index($5, t) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		what+="mounts under $b; "
	fi
	printf '%s' "$what"
}

# expect_rt_error NAME REGEX CMD...: CMD fails. For Capsule also: exit status 1 and exactly one
# stderr line "capsule: ..." matching REGEX (capsule-specific message format).
expect_rt_error() {
	local name=$1 re=$2; shift 2
	local err=$TMPD/$name.err
	# timeout cannot run the rt function: spell it out.
	[ "$1" = rt ] && { shift; set -- "$RUNTIME" --root "$ROOT" "$@"; }
	timeout -k 5 30 "$@" >/dev/null 2>"$err" </dev/null
	local rc=$? lines
	if [ $rc -eq 0 ]; then
		fail "$name" "succeeded, want an error"; return 1
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$name" "timed out"; return 1
	elif [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
		fail "$name" "could not run $1 (status $rc)"; return 1
	elif [ ! -s "$err" ]; then
		fail "$name" "exit status $rc but no error message on stderr"; return 1
	fi
	is_capsule || { pass "$name"; return 0; }
	lines=$(grep -vc '^capsule: warning:' "$err")
	if [ $rc -ne "${WANT_RC:-1}" ]; then
		fail "$name" "exit status $rc, want ${WANT_RC:-1}; stderr: $(head -c 300 "$err" | tr '\n' '|')"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "want one error line, got $lines: $(head -c 300 "$err" | tr '\n' '|')"
	elif ! grep -v '^capsule: warning:' "$err" | grep -Eq -- "^capsule: .*($re)"; then
		fail "$name" "error does not match /capsule: .*($re)/: $(head -c 300 "$err")"
	else
		pass "$name"; return 0
	fi
	return 1
}
