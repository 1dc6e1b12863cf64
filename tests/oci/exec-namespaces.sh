#!/usr/bin/env bash
# exec joins the namespaces the container was created with (recorded in its state at create),
# not whatever its init holds later: a container that makes namespaces for itself (unshare
# inside it) must not be able to disable exec against itself, nor steer exec into them.
source "$(dirname "$0")/common.bash"
oci_require

# start_changed NAME ARGS...: create + start a container running ARGS; wait until its init's
# user namespace is no longer the one it had at create. Sets PID, USERNS0 (the init's user
# namespace at create) and the other namespaces at create in NS0_<type>.
start_changed() {
	local name=$1 t; shift
	new_bundle "$name" -- "$@"
	[ -n "${EXTRA_CFG:-}" ] && cfg "$BUNDLE" "$EXTRA_CFG"
	ct_create "$name" "$BUNDLE"
	[ $RC -eq 0 ] || { WHY="create exit $RC: $(head -c 300 "$TMPD/$name.create")"; return 1; }
	PID=$(ct_pid "$name")
	USERNS0=$(ns_inode "$PID" user)
	for t in ipc net uts pid mnt; do eval "NS0_$t=\$(ns_inode $PID $t)"; done
	rt start "$name" >"$TMPD/$name.start" 2>&1 || { WHY="start: $(head -c 300 "$TMPD/$name.start")"; return 1; }
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(ns_inode "$PID" user)" != "$USERNS0" ] && return 0
		sleep 0.1
	done
	WHY="the init's user namespace did not change (unshare -U inside failed?)"
	return 1
}

# exec_ns NAME ID: exec readlink of its own namespaces; output in $OUT, status in $RC.
exec_ns() {
	OUT=$TMPD/$1.out
	timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec "$2" sh -c \
		'for t in user ipc net uts pid mnt; do echo "$t=$(readlink /proc/self/ns/$t)"; done' \
		>"$OUT" 2>&1 </dev/null
	RC=$?
}
got() { sed -n "s/^$1=//p" "$OUT"; }

# --- the container (no user namespace of its own) makes one for its init: exec still works,
# in the host's user namespace and the container's others (on the old code: "cannot join
# the ipc namespace: Operation not permitted").
if ! start_changed ownuser sh -c 'exec unshare -U sleep 1000'; then
	fail oci-exec-ns-init-own-userns "$WHY"
else
	exec_ns ownuser ownuser
	bad=""
	for t in ipc net uts pid mnt; do
		eval "want=\$NS0_$t"
		[ "$(got $t)" = "$want" ] || bad+="$t $(got $t) (want $want); "
	done
	if [ $RC -ne 0 ]; then
		fail oci-exec-ns-init-own-userns "exec exit $RC: $(said)"
	elif [ "$(got user)" != "$(ns_inode $$ user)" ]; then
		fail oci-exec-ns-init-own-userns "exec joined the user namespace the init made: $(got user)"
	elif [ -n "$bad" ]; then
		fail oci-exec-ns-init-own-userns "not in the container's namespaces: $bad"
	else
		pass oci-exec-ns-init-own-userns
	fi
fi
rt delete --force ownuser >/dev/null 2>&1

# --- a container with its own user namespace whose init then leaves it for a nested one
# (no other process stays in the original): exec joins the original (reached through the
# container's other namespaces, which it owns), not the nested one.
USERCFG='.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]'
if ! EXTRA_CFG=$USERCFG start_changed nested sh -c 'exec unshare -U sleep 1000'; then
	fail oci-exec-ns-recorded-userns "$WHY"
else
	exec_ns nested nested
	if [ $RC -ne 0 ]; then
		fail oci-exec-ns-recorded-userns "exec exit $RC: $(said)"
	elif [ "$(got user)" != "$USERNS0" ]; then
		fail oci-exec-ns-recorded-userns "exec is in user namespace $(got user), want the container's $USERNS0"
	elif [ "$(got ipc)" != "$NS0_ipc" ] || [ "$(got mnt)" != "$NS0_mnt" ]; then
		fail oci-exec-ns-recorded-userns "not in the container's namespaces: $(said)"
	else
		pass oci-exec-ns-recorded-userns
	fi
fi
rt delete --force nested >/dev/null 2>&1

# --- the init moves to a network namespace of its own (unshare -Un); a sibling keeps the
# container's: exec joins the container's (found through the sibling), not the init's new one.
if ! start_changed sibling sh -c 'sleep 1000 & exec unshare -Un sleep 1000'; then
	fail oci-exec-ns-recorded-from-sibling "$WHY"
else
	exec_ns sibling sibling
	if [ $RC -ne 0 ]; then
		fail oci-exec-ns-recorded-from-sibling "exec exit $RC: $(said)"
	elif [ "$(got net)" != "$NS0_net" ]; then
		fail oci-exec-ns-recorded-from-sibling "exec is in network namespace $(got net) (the init's now: $(ns_inode "$PID" net)), want the container's $NS0_net"
	else
		pass oci-exec-ns-recorded-from-sibling
	fi
fi
rt delete --force sibling >/dev/null 2>&1

# --- the same with no process left in the container's network namespace: exec refuses with
# one line naming it, rather than run in a namespace the container made.
if ! start_changed netgone sh -c 'exec unshare -Un sleep 1000'; then
	fail oci-exec-ns-recorded-gone "$WHY"
else
	expect_rt_error oci-exec-ns-recorded-gone 'network namespace is gone' rt exec netgone true
fi
rt delete --force netgone >/dev/null 2>&1

# --- exec into a created container with a time namespace joins it (the init, not yet
# exec'd, has it only for its children).
if [ ! -e /proc/self/ns/time ]; then
	skip oci-exec-ns-time-created "kernel has no time namespace"
else
	new_bundle timens -- true
	cfg "$BUNDLE" '.linux.namespaces += [{"type": "time"}]'
	ct_create timens "$BUNDLE"
	if [ $RC -ne 0 ]; then
		fail oci-exec-ns-time-created "create exit $RC: $(head -c 300 "$TMPD/timens.create")"
	else
		want=$(readlink "/proc/$(ct_pid timens)/ns/time_for_children")
		OUT=$TMPD/timens.out
		timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec timens readlink /proc/self/ns/time >"$OUT" 2>&1 </dev/null
		RC=$?
		if [ $RC -ne 0 ]; then
			fail oci-exec-ns-time-created "exec exit $RC: $(said)"
		elif [ "$want" = "$(readlink /proc/self/ns/time)" ]; then
			fail oci-exec-ns-time-created "the container's init has no time namespace of its own"
		elif [ "$(cat "$OUT")" != "$want" ]; then
			fail oci-exec-ns-time-created "exec is in time namespace $(said), want the container's $want"
		else
			pass oci-exec-ns-time-created
		fi
	fi
	rt delete --force timens >/dev/null 2>&1
fi
