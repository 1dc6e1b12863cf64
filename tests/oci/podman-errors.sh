#!/usr/bin/env bash
# Podman (Debian's 4.3) sees the runtime's failures at `podman run` time (issue 8): a user the
# user namespace does not map, a capability the runtime does not hold, a seccomp filter too large
# to load, a program that is missing and one the kernel refuses to execute. Each `podman run`
# must fail with the runtime's reason, and leave no container that "started".
#
# The same suite runs against the anchors (RUNTIME=runc / RUNTIME=crun tests/run podman-errors):
# with both, an exec the kernel refuses is not a `podman run` error (start exits 0; podman prints
# the container's own message and exits with its status 1).
source "$(dirname "$0")/common.bash"
oci_require
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
	skip oci-podman-errors "podman/conmon not installed (scripts/deps)"; exit 0
fi

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

# (containers.conf from podman-setup: ulimits nofile/nproc 1024, cgroupfs, no network)
if ! env=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup.err"); then
	fail oci-podman-errors-setup "scripts/podman-setup failed: $(tail -c 300 "$TMPD/setup.err")"
	exit 0
fi
eval "$env"
cd "$TMPD" || exit 1

# pm_fails NAME REGEX RUNTIME-PATH PODMAN-RUN-ARGS...: `podman run --rm` fails as podman's own
# error (a line "Error: ...", which a container that started and died of it does not give),
# the output names the runtime's reason (REGEX), and podman holds no container afterwards.
pm_fails() {
	local name=$1 re=$2 prt=$3 out rc left
	shift 3
	out=$(timeout -k 5 90 podman --runtime "$prt" run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" \
		"$@" </dev/null 2>&1)
	rc=$?
	# (CAPSULE_TEST_VERBOSE=1: what podman said, for comparing runtimes)
	[ -n "${CAPSULE_TEST_VERBOSE:-}" ] && echo "# $name: exit $rc: $(head -c 400 <<<"$out" | tr '\n' '|')"
	left=$(timeout 30 podman --runtime "$prt" ps -a --format '{{.ID}} {{.Status}}' 2>&1)
	if [ $rc -eq 0 ]; then
		fail "$name" "podman run succeeded: $(head -c 300 <<<"$out" | tr '\n' '|')"
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$name" "podman run timed out"
	elif ! grep -q '^Error: ' <<<"$out"; then
		fail "$name" "exit $rc without podman's error: the container started and failed on its own: $(head -c 300 <<<"$out" | tr '\n' '|')"
	elif ! grep -Eqi -- "$re" <<<"$out"; then
		fail "$name" "exit $rc, but the output does not say /$re/: $(head -c 300 <<<"$out" | tr '\n' '|')"
	elif [ -n "$left" ]; then
		fail "$name" "podman still holds a container: $(tr '\n' '|' <<<"$left")"
		timeout 30 podman --runtime "$prt" rm --all --force >/dev/null 2>&1
	else
		pass "$name"
	fi
	PM_OUT=$out PM_RC=$rc
}

# --- control: the same podman and runtime run a container
out=$(timeout -k 5 90 podman --runtime "$PRT" run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" \
	"$PODMAN_IMAGE" echo podman-ok </dev/null 2>&1)
if [ "$out" != podman-ok ]; then
	fail oci-podman-errors-control "podman run of echo: $(head -c 300 <<<"$out" | tr '\n' '|')"
	exit 0
fi
pass oci-podman-errors-control

# --- the user switch: a supplementary group the user namespace does not map (podman checks the
# uid and gid itself, not the groups)
pm_fails oci-podman-error-user 'setgroups|additionalGids|invalid argument' "$PRT" --uidmap 0:0:65536 \
	--gidmap 0:0:65536 --group-add 70000 "$PODMAN_IMAGE" true

# --- a capability the runtime does not hold: podman runs it under setpriv without CAP_SYS_TIME
if command -v setpriv >/dev/null; then
	printf '#!/bin/sh\nexec setpriv --bounding-set -sys_time -- %q "$@"\n' "$PRT" >"$TMPD/rt-nosystime"
	chmod 755 "$TMPD/rt-nosystime"
	pm_fails oci-podman-error-cap-not-held 'capabilit|caps|capset' "$TMPD/rt-nosystime" --cap-add SYS_TIME \
		"$PODMAN_IMAGE" true
else
	skip oci-podman-error-cap-not-held "setpriv (util-linux) not installed"
fi

# --- a seccomp profile too large to load (the kernel takes 4096 BPF instructions)
jq -n '{defaultAction: "SCMP_ACT_ALLOW", syscalls: ([range(0; 1000)] | map({names: ["mkdir", "rmdir",
	"chmod", "chown", "link", "unlink", "rename", "truncate"], action: "SCMP_ACT_ERRNO",
	args: [{index: 0, value: ., op: "SCMP_CMP_EQ"}, {index: 1, value: (. + 1), op: "SCMP_CMP_EQ"}]}))}' \
	>"$TMPD/big-seccomp.json"
pm_fails oci-podman-error-seccomp 'seccomp' "$PRT" --security-opt seccomp="$TMPD/big-seccomp.json" \
	"$PODMAN_IMAGE" true

# --- a missing program: podman's "not found" (exit 127)
pm_fails oci-podman-error-missing 'no such file|not found' "$PRT" "$PODMAN_IMAGE" /no/such/program
[ "${PM_RC:-0}" -eq 127 ] && pass oci-podman-error-missing-127 ||
	fail oci-podman-error-missing-127 "podman exit ${PM_RC:-?}, want 127 (podman's 'not found')"

# --- a program the kernel refuses to execute (executable bits, no format): create succeeds, and
# the start podman calls must fail with the reason
printf 'not a program\n' >"$TMPD/notexec"
chmod 755 "$TMPD/notexec"
if is_capsule; then
	pm_fails oci-podman-error-exec-refused 'exec format error' "$PRT" -v "$TMPD/notexec:/notexec:ro" \
		"$PODMAN_IMAGE" /notexec
else
	skip oci-podman-error-exec-refused "capsule-specific ($(basename "$RUNTIME") start exits 0: the container reports it)"
fi
