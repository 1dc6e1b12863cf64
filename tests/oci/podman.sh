#!/usr/bin/env bash
# Podman (Debian's 4.3) drives the runtime: podman --runtime <abs path> run/exec/stop/rm with
# --rm, -d, -t, --memory and --pids-limit, on a busybox image made with podman import (and
# scripts/podman-setup run twice on one directory leaves no dangling image).
# Podman is isolated by scripts/podman-setup (storage, tmp and events under $TMPD) and cleaned up.
source "$(dirname "$0")/common.bash"
oci_require
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
	skip oci-podman "podman/conmon not installed (scripts/deps)"; exit 0
fi

# podman gets the runtime by absolute path, symlink kept (capsule-runtime is how Capsule knows
# it is called as a runtime).
case $RUNTIME in
*/*) PRT=$(cd "$(dirname "$RUNTIME")" && pwd)/$(basename "$RUNTIME") ;;
*) PRT=$(command -v "$RUNTIME") ;;
esac

PD=$TMPD/podman
podman_cleanup() {
	"$CAPSULE_ROOT/scripts/podman-setup" --clean "$PD" >/dev/null 2>&1
	oci_cleanup
}
trap podman_cleanup EXIT

if ! env=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup.err"); then
	fail oci-podman-setup "scripts/podman-setup failed: $(tail -c 300 "$TMPD/setup.err")"
	exit 0
fi
eval "$env"
pass oci-podman-setup

# --- re-running podman-setup on the same directory replaces the image, leaving no dangling one
if ! env2=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup2.err"); then
	fail oci-podman-setup-rerun "second scripts/podman-setup failed: $(tail -c 300 "$TMPD/setup2.err")"
else
	dangling=$(podman images -a --filter dangling=true -q 2>&1)
	all=$(podman images -a --format '{{.Repository}}:{{.Tag}}' 2>&1)
	if [ "$env2" != "$env" ]; then
		fail oci-podman-setup-rerun "the second run printed other settings: $(tr '\n' ' ' <<<"$env2")"
	elif [ -n "$dangling" ]; then
		fail oci-podman-setup-rerun "dangling images after the second run: $(tr '\n' ' ' <<<"$dangling")"
	elif [ "$all" != "$PODMAN_IMAGE" ]; then
		fail oci-podman-setup-rerun "podman images -a: '$(tr '\n' ' ' <<<"$all")', want only $PODMAN_IMAGE"
	else
		pass oci-podman-setup-rerun
	fi
fi
# conmon writes an "oom" marker file into its working directory when a container is OOM-killed.
cd "$TMPD" || exit 1

# The runtime keeps its default state root (podman passes no --root, and a --runtime-flag root=
# would not reach the exit command that cleans up --rm containers); podman deletes what it made.
pm() { timeout -k 5 90 podman --runtime "$PRT" "$@" </dev/null; }
pmrun() { pm run --cgroup-parent "$PODMAN_CGROUP_PARENT" "$@"; }
clean_tty() { tr -d '\r'; }

# --- run --rm echo hi
out=$(pmrun --rm "$PODMAN_IMAGE" echo hi 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ "$out" != hi ]; then
	fail oci-podman-run-rm "exit $rc, output '$(head -c 300 <<<"$out")'"
elif [ -n "$(pm ps -a -q 2>/dev/null)" ]; then
	fail oci-podman-run-rm "--rm left a container: $(pm ps -a 2>&1 | tail -n +2)"
else
	pass oci-podman-run-rm
fi

out=$(pmrun --rm "$PODMAN_IMAGE" sh -c 'exit 7' 2>&1)
rc=$?
[ $rc -eq 7 ] && pass oci-podman-exit-code || fail oci-podman-exit-code "exit $rc, want 7: $out"

# --- -d, exec, exec -t, stop, rm
cid=$(pmrun -d --name capsule-podman-d "$PODMAN_IMAGE" sleep 300 2>"$TMPD/d.err")
rc=$?
status=$(pm inspect -f '{{.State.Status}}' capsule-podman-d 2>/dev/null)
if [ $rc -ne 0 ] || [ "$status" != running ]; then
	fail oci-podman-detach "exit $rc, status '$status': $(head -c 300 "$TMPD/d.err")"
else
	pass oci-podman-detach

	out=$(pm exec capsule-podman-d sh -c 'echo from-exec; tr "\0" " " </proc/1/cmdline' 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -qx from-exec <<<"$out" && grep -q '^sleep 300' <<<"$out"; then
		pass oci-podman-exec
	else
		fail oci-podman-exec "exit $rc: $(head -c 300 <<<"$out")"
	fi

	out=$(pm exec -t capsule-podman-d sh -c 'tty; [ -t 1 ] && echo tty-ok' 2>&1 | clean_tty)
	if grep -Eq '^/dev/pts/[0-9]+$' <<<"$out" && grep -qx tty-ok <<<"$out"; then
		pass oci-podman-exec-tty
	else
		fail oci-podman-exec-tty "got '$(head -c 300 <<<"$out")'"
	fi

	pm stop -t 1 capsule-podman-d >"$TMPD/stop.out" 2>&1
	rc=$?
	status=$(pm inspect -f '{{.State.Status}}' capsule-podman-d 2>/dev/null)
	[ $rc -eq 0 ] && [ "$status" = exited ] && pass oci-podman-stop ||
		fail oci-podman-stop "exit $rc, status '$status': $(head -c 300 "$TMPD/stop.out")"

	pm rm capsule-podman-d >"$TMPD/rm.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! pm container exists capsule-podman-d 2>/dev/null; then
		pass oci-podman-rm
	else
		fail oci-podman-rm "exit $rc: $(head -c 300 "$TMPD/rm.out")"
	fi
fi

# --- --memory: the limit lands in the container's memory cgroup; going past it is an OOM kill
cid=$(pmrun -d --name capsule-podman-mem --memory 32m "$PODMAN_IMAGE" sleep 300 2>"$TMPD/mem.err")
pid=$(pm inspect -f '{{.State.Pid}}' capsule-podman-mem 2>/dev/null)
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
	f=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)/memory.max
else
	f=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)/memory.limit_in_bytes
fi
lim=$(cat "$f" 2>/dev/null)
[ "$lim" = 33554432 ] && pass oci-podman-memory ||
	fail oci-podman-memory "pid '$pid', $f = '$lim', want 33554432: $(head -c 300 "$TMPD/mem.err")"
pm rm -f -t 0 capsule-podman-mem >/dev/null 2>&1

out=$(pmrun --rm --memory 32m --memory-swap 32m "$PODMAN_IMAGE" dd if=/dev/zero of=/dev/null bs=64M count=1 2>&1)
rc=$?
[ $rc -eq 137 ] && pass oci-podman-memory-oom || fail oci-podman-memory-oom "exit $rc, want 137: $(head -c 300 <<<"$out")"

# --- --pids-limit: fork fails past the limit
FORK='n=0; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 5 & n=$((n+1)); done; echo started=$n'
out=$(pmrun --rm --pids-limit 8 "$PODMAN_IMAGE" sh -c "$FORK" 2>&1)
if grep -q started=20 <<<"$out" || ! grep -Eiq "can't fork|resource temporarily unavailable" <<<"$out"; then
	fail oci-podman-pids-limit "want a fork failure under --pids-limit 8: $(head -c 300 <<<"$out")"
else
	pass oci-podman-pids-limit
fi

# --- -t: the container's stdio is a pty (through the console socket, via conmon)
out=$(pmrun --rm -t "$PODMAN_IMAGE" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo tty-ok' 2>&1 | clean_tty)
if grep -Eq '^/dev/(pts/[0-9]+|console)$' <<<"$out" && grep -qx tty-ok <<<"$out"; then
	pass oci-podman-tty
else
	fail oci-podman-tty "got '$(head -c 300 <<<"$out")'"
fi

# --- nothing left: no containers, no cgroups under the parent
left=$(pm ps -a -q 2>/dev/null)
# and none of them is still known to the runtime (its default root)
left+=$("$PRT" list --format json 2>/dev/null |
	jq -r --arg d "$PD/" '.[]? | select(.bundle | startswith($d)) | " runtime:" + .id' 2>/dev/null)
cg=$(find /sys/fs/cgroup/*/"$PODMAN_CGROUP_PARENT" -mindepth 1 -type d -name 'libpod-*' 2>/dev/null |
	{ if [ -n "${CAPSULE_OCI_V1ONLY:-}" ]; then grep -v '^/sys/fs/cgroup/unified/'; else cat; fi; } | head -n 3)
[ -z "$left" ] && [ -z "$cg" ] && pass oci-podman-clean || fail oci-podman-clean "containers '$left', cgroups '$cg'"
