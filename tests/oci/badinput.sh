#!/usr/bin/env bash
# Bad input: each gives a clear error and a non-zero exit, and leaves no state dir, cgroup or
# mount behind. Capsule-specific (checked only when RUNTIME is Capsule, by expect_rt_error): exit
# status 1 and exactly one stderr line "capsule: ..." that names the offending thing.
source "$(dirname "$0")/common.bash"
oci_require

# bad_create NAME REGEX FILTER: create a bundle whose config.json is edited by FILTER; create must
# fail (see expect_rt_error) and leave nothing behind.
bad_create() {
	local name=$1 re=$2 filter=$3
	new_bundle "$name" -- true
	[ -n "$filter" ] && cfg "$BUNDLE" "$filter"
	track "$name"
	expect_rt_error "$name" "$re" rt create --bundle "$BUNDLE" "$name" || return
	no_leftovers "$name"
}

# no_leftovers NAME: one extra line, NAME-clean, for the leftovers check.
no_leftovers() {
	local left; left=$(leftovers "$1" "$BUNDLE")
	if [ -n "$left" ]; then
		fail "$1-clean" "left behind: $left"
	elif rt state "$1" >/dev/null 2>&1; then
		fail "$1-clean" "state still answers for $1"
	else
		pass "$1-clean"
	fi
}

# --- config.json problems
new_bundle oci-bad-json -- true
printf '{ "ociVersion": "1.0.2", "process": { "args": [ "true" ' >"$BUNDLE/config.json"
track oci-bad-json
expect_rt_error oci-bad-json 'config\.json' rt create --bundle "$BUNDLE" oci-bad-json && no_leftovers oci-bad-json

new_bundle oci-no-config -- true
rm "$BUNDLE/config.json"
track oci-no-config
expect_rt_error oci-no-config 'config\.json' rt create --bundle "$BUNDLE" oci-no-config && no_leftovers oci-no-config

bad_create oci-bad-namespace 'linux\.namespaces|bogus' '.linux.namespaces += [{"type": "bogus"}]'
bad_create oci-missing-rootfs 'root\.path|no-such-rootfs' '.root.path = "no-such-rootfs"'
bad_create oci-bad-args-type 'process\.args' '.process.args = "true"'
bad_create oci-bad-mount-type 'mounts|nosuchfs' '.mounts += [{"destination": "/mnt", "type": "nosuchfs", "source": "none"}]'
bad_create oci-bad-seccomp-action 'seccomp|SCMP_ACT_BOGUS' \
	'.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS", "syscalls": []}'
bad_create oci-bad-ns-path 'linux\.namespaces|no-such-ns' '.linux.namespaces |= map(if .type == "network" then .path = "/no-such-ns" else . end)'

# --- ids
new_bundle oci-bad-id -- true
track ../evil
expect_rt_error oci-bad-id 'evil|id' rt create --bundle "$BUNDLE" ../evil
[ -e "$TMPD/evil" ] && fail oci-bad-id-clean "created $TMPD/evil outside the state root" || pass oci-bad-id-clean

for verb in state start kill delete; do
	expect_rt_error "oci-unknown-id-$verb" 'no-such-ctr' rt $verb no-such-ctr
done
expect_rt_error oci-unknown-id-exec 'no-such-ctr' rt exec no-such-ctr true

# --- creating an existing id: refused, and the first container is untouched
new_bundle dup -- sleep 60
ct_create dup "$BUNDLE"
pid=$(ct_pid dup)
if [ $RC -ne 0 ]; then
	fail oci-duplicate-id "first create failed: $(head -c 300 "$TMPD/dup.create")"
else
	new_bundle dup2 -- true
	expect_rt_error oci-duplicate-id 'already exists' rt create --bundle "$BUNDLE" dup
	if [ "$(ct_state dup)" = created ] && [ "$(ct_pid dup)" = "$pid" ] && [ -d "/proc/$pid" ] &&
	   [ "$(ct_state dup bundle)" = "$TMPD/dup" ]; then
		pass oci-duplicate-id-first-intact
	else
		fail oci-duplicate-id-first-intact "first container now: $(rt state dup 2>&1 | tr '\n' ' ')"
	fi
	[ -z "$(leftovers dup2 "$BUNDLE")" ] && pass oci-duplicate-id-clean ||
		fail oci-duplicate-id-clean "left behind: $(leftovers dup2 "$BUNDLE")"

	# --- wrong-state operations
	expect_rt_error oci-bad-signal 'SIGBOGUS|signal' rt kill dup SIGBOGUS
	rt start dup >/dev/null 2>&1
	wait_status dup running 50
	expect_rt_error oci-start-twice 'running|not created' rt start dup
	expect_rt_error oci-delete-running 'running' rt delete dup
	[ "$(ct_state dup)" = running ] && pass oci-delete-running-kept ||
		fail oci-delete-running-kept "status after a refused delete: $(ct_state dup)"
	rt delete --force dup >/dev/null 2>&1
fi

# --- command line
# A bad command line exits 2 (CAP_EXIT_USAGE), as every capsule command does.
WANT_RC=2 expect_rt_error oci-unknown-command 'no-such-command' rt no-such-command
