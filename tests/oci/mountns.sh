#!/usr/bin/env bash
# A container without a mount namespace of its own (issue 8): with the host's shared (no
# "mount" in linux.namespaces) the configured mounts (/proc, /dev, ...) are made on a private
# bind of the rootfs, the init chroots into it, and delete (or a failed create) leaves no mount;
# with one joined by path it gets the configured root and mounts like a new one. In both the
# exec fifo is reopened without the container's /proc, and exec enters the container's root.
#
# runc 1.1.5 refuses the host's namespace while maskedPaths/readonlyPaths are set ("unable to
# restrict sys entries without a private MNT namespace") and, without them, leaves the mounts on
# the host after delete; crun 1.8.1 runs it and leaves them too; both ignore root.readonly there
# (the container writes the host's directory), and both run `exec` in the host's root, not
# the container's. Both handle the joined case.
source "$(dirname "$0")/common.bash"
oci_require

# mounts_under PATH: how many mounts of our namespace are at or below PATH.
mounts_under() { awk -v t="$1" 'index($5, t) == 1' /proc/self/mountinfo | wc -l; }

# Everything a container can see of its mounts: /proc, /dev/null, the cgroup tmpfs, a masked path.
PROBE='test -r /proc/self/stat && echo proc-ok; test -c /dev/null && echo dev-ok;
	grep -q " /dev/pts " /proc/self/mountinfo && echo pts-ok;
	[ "$(stat -c %t:%T /proc/kcore 2>/dev/null)" = 1:3 ] || [ ! -e /proc/kcore ] && echo masked-ok; echo ran'
probe_ok() { grep -qx proc-ok "$1" && grep -qx dev-ok "$1" && grep -qx pts-ok "$1" && grep -qx masked-ok "$1"; }

host_bundle() {
	new_bundle "$1" -- sh -c "$2"
	cfg "$BUNDLE" '.linux.namespaces |= map(select(.type != "mount"))'
	if [ "$(basename "$RUNTIME")" = runc ]; then
		cfg "$BUNDLE" 'del(.linux.maskedPaths, .linux.readonlyPaths)'
	fi
}

# --- run: the program sees the configured mounts; nothing is left after it
host_bundle hostrun "$PROBE"
ct_run hostrun hostrun "$BUNDLE"
if [ $RC -ne 0 ] || ! probe_ok "$OUT"; then
	fail oci-mountns-host-run "exit $RC: $(said)"
else
	pass oci-mountns-host-run
fi
n=$(mounts_under "$BUNDLE/")
if ! is_capsule; then
	skip oci-mountns-host-run-clean "capsule-specific ($(basename "$RUNTIME") leaves $n mounts on the host)"
elif [ "$n" -ne 0 ]; then
	fail oci-mountns-host-run-clean "$n mounts left under $BUNDLE: $(awk -v t="$BUNDLE/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | head -n 5 | tr '\n' ' ')"
else
	pass oci-mountns-host-run-clean
fi

# --- create, start: the init reopens the exec fifo without /proc of its own at that point;
# while it runs its mounts are on the host under the bundle (and the host's / keeps its
# propagation), after delete there are none
prop_before=$(findmnt -no PROPAGATION /)
host_bundle hoststart "{ $PROBE; } >/tmp/probe; sleep 60"
ct_create hoststart "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-mountns-host-start "create exit $RC: $(head -c 300 "$TMPD/hoststart.create")"
elif ! out=$(timeout -k 5 20 "$RUNTIME" --root "$ROOT" start hoststart 2>&1 </dev/null); then
	fail oci-mountns-host-start "start failed: $out"
else
	for ((i = 0; i < 50; i++)); do grep -qx ran "$BUNDLE/rootfs/tmp/probe" 2>/dev/null && break; sleep 0.1; done
	if [ "$(ct_state hoststart)" != running ] || ! probe_ok "$BUNDLE/rootfs/tmp/probe"; then
		fail oci-mountns-host-start "state $(ct_state hoststart), probe: $(tr '\n' '|' <"$BUNDLE/rootfs/tmp/probe" 2>&1)"
	elif [ "$(mounts_under "$BUNDLE/rootfs/proc")" -eq 0 ]; then
		fail oci-mountns-host-start "no proc mount under $BUNDLE/rootfs on the host: not the host's namespace?"
	elif [ "$(findmnt -no PROPAGATION /)" != "$prop_before" ]; then
		fail oci-mountns-host-start "the host's / changed propagation: $prop_before -> $(findmnt -no PROPAGATION /)"
	else
		pass oci-mountns-host-start
	fi
fi
# exec into it runs in the container's root, not the host's (which has no /capsule-marker)
echo "in-the-container" >"$BUNDLE/rootfs/capsule-marker"
OUT=$TMPD/hostexec.out
timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec hoststart sh -c 'cat /capsule-marker; test -r /proc/self/stat && echo proc-ok' \
	>"$OUT" 2>&1 </dev/null
RC=$?
if [ "$(ct_state hoststart)" != running ]; then
	skip oci-mountns-host-exec "the container is not running (see oci-mountns-host-start)"
elif ! is_capsule && [ $RC -eq 0 ] && ! grep -qx in-the-container "$OUT"; then
	skip oci-mountns-host-exec "capsule-specific ($(basename "$RUNTIME") execs in the host's root here)"
elif [ $RC -ne 0 ] || ! grep -qx in-the-container "$OUT" || ! grep -qx proc-ok "$OUT"; then
	fail oci-mountns-host-exec "exec did not run in the container's root: exit $RC: $(said)"
else
	pass oci-mountns-host-exec
fi
# ... and its cgroup binds, now in the host's mountinfo, are not taken for hierarchies by another
# container's runtime: here one that cannot reach the hybrid host's unified mount (hidden by a
# tmpfs in a private namespace, as for crun), which used to pick this container's read-only bind
if ! is_capsule; then
	skip oci-mountns-host-cgroup-binds "capsule-specific (cgroup layout detection)"
elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" != cgroup2fs ] ||
	[ "$(mounts_under "$BUNDLE/rootfs/sys/fs/cgroup/")" -eq 0 ]; then
	skip oci-mountns-host-cgroup-binds "no hybrid unified cgroup2 mount, or no cgroup mounts in the container"
else
	new_bundle other -- sh -c 'echo other-ok'
	track other
	OUT=$TMPD/other.out
	timeout -k 5 30 unshare -m --propagation private bash -c \
		'mount -t tmpfs -o size=1m capsule-hide /sys/fs/cgroup/unified &&
		 exec "$0" --root "$1" run --bundle "$2" other' "$RUNTIME" "$ROOT" "$BUNDLE" >"$OUT" 2>&1 </dev/null
	RC=$?
	[ $RC -eq 0 ] && grep -qx other-ok "$OUT" && pass oci-mountns-host-cgroup-binds ||
		fail oci-mountns-host-cgroup-binds "run beside a container sharing the host's namespace: exit $RC: $(said)"
	BUNDLE=$TMPD/hoststart
fi
timeout -k 5 20 "$RUNTIME" --root "$ROOT" delete --force hoststart >/dev/null 2>&1
n=$(mounts_under "$BUNDLE/")
if ! is_capsule; then
	skip oci-mountns-host-delete-clean "capsule-specific ($(basename "$RUNTIME") leaves $n mounts on the host)"
elif [ "$n" -ne 0 ]; then
	fail oci-mountns-host-delete-clean "$n mounts left under $BUNDLE after delete"
else
	pass oci-mountns-host-delete-clean
fi

# --- root.readonly without a mount namespace: / is read-only inside, the host's rootfs is not
host_bundle hostro 'touch /x 2>&1; echo rc=$?'
cfg "$BUNDLE" '.root.readonly = true'
ct_run hostro hostro "$BUNDLE"
if ! is_capsule && grep -qx rc=0 "$OUT"; then
	skip oci-mountns-host-readonly "capsule-specific ($(basename "$RUNTIME") ignores root.readonly here: the write reached the host's directory)"
elif [ $RC -ne 0 ] || ! grep -qi 'read-only file system' "$OUT"; then
	fail oci-mountns-host-readonly "exit $RC, want EROFS: $(said)"
elif ! touch "$BUNDLE/rootfs/host-can-write"; then
	fail oci-mountns-host-readonly "the host's rootfs directory became read-only"
else
	pass oci-mountns-host-readonly
fi

# --- a create that fails half-way (a mount the kernel refuses after /proc and /dev are made)
# leaves no mount on the host
host_bundle hostfail true
cfg "$BUNDLE" '.mounts += [{"destination": "/mnt", "type": "capsule-no-such-fs", "source": "none"}]'
track hostfail
expect_rt_error oci-mountns-host-failed-create 'mounts\[' rt create --bundle "$BUNDLE" hostfail
n=$(mounts_under "$BUNDLE/")
if [ "$n" -ne 0 ]; then
	if is_capsule; then
		fail oci-mountns-host-failed-create-clean "$n mounts left under $BUNDLE"
	else
		skip oci-mountns-host-failed-create-clean "capsule-specific ($(basename "$RUNTIME") leaves $n mounts)"
	fi
else
	pass oci-mountns-host-failed-create-clean
fi

# --- a joined mount namespace (path): the configured root and mounts are made in it, like in a
# new one, for run and for create/start; the host sees none of them. (Each gets its own: the
# pivot moves the root of the namespace it joins, as it does under runc and crun.)
for mode in run start; do
	unshare -m --propagation private sleep 300 &
	holder=$!
	for ((i = 0; i < 50; i++)); do [ "$(ns_inode $holder mnt)" != "$(ns_inode $$ mnt)" ] && break; sleep 0.1; done
	if [ "$(ns_inode $holder mnt)" = "$(ns_inode $$ mnt)" ]; then
		fail "oci-mountns-joined-$mode" "unshare -m did not make a mount namespace"
		kill "$holder"; continue
	fi
	new_bundle "joined$mode" -- sh -c "{ $PROBE; } >/tmp/probe; cat /tmp/probe"
	cfg "$BUNDLE" '.linux.namespaces |= map(if .type == "mount" then .path = $p else . end)' \
		--arg p "/proc/$holder/ns/mnt"
	if [ $mode = run ]; then
		ct_run joinedrun joinedrun "$BUNDLE"
	else
		ct_create joinedstart "$BUNDLE"
		[ $RC -eq 0 ] && { timeout -k 5 20 "$RUNTIME" --root "$ROOT" start joinedstart >/dev/null 2>&1; RC=$?; }
		OUT=$TMPD/joinedstart.out
		for ((i = 0; i < 50; i++)); do grep -qx ran "/proc/$holder/root/tmp/probe" 2>/dev/null && break; sleep 0.1; done
		cp "/proc/$holder/root/tmp/probe" "$OUT" 2>/dev/null || : >"$OUT"
	fi
	if [ $RC -ne 0 ] || ! probe_ok "$OUT"; then
		fail "oci-mountns-joined-$mode" "exit $RC: $(said)"
	elif [ "$(mounts_under "$BUNDLE/")" -ne 0 ]; then
		fail "oci-mountns-joined-$mode" "the container's mounts are in the host's namespace"
	else
		pass "oci-mountns-joined-$mode"
	fi
	timeout -k 5 20 "$RUNTIME" --root "$ROOT" delete --force "joined$mode" >/dev/null 2>&1
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null || :
done
