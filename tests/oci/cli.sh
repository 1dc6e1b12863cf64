#!/usr/bin/env bash
# The runc command-line contract beyond the lifecycle: --version, spec, features, --log with
# --log-format json, --pid-file, --preserve-fds, --no-pivot, run --detach, exec flags, kill --all.
source "$(dirname "$0")/common.bash"
oci_require

out=$("$RUNTIME" --version 2>&1)
[ $? -eq 0 ] && grep -qi 'version' <<<"$out" && grep -qi 'spec' <<<"$out" && pass oci-cli-version ||
	fail oci-cli-version "want a version and a spec line: $out"

# spec writes a config.json that runs as it is (given a rootfs and args).
mkdir -p "$TMPD/spec"
if ! rt spec --bundle "$TMPD/spec" >"$TMPD/spec.out" 2>&1 || ! jq_true '.ociVersion and .process and .root and .linux' \
	"$TMPD/spec/config.json"; then
	fail oci-cli-spec "spec --bundle: $(head -c 300 "$TMPD/spec.out")"
else
	"$CAPSULE_ROOT/scripts/mkbundle" --rootfs-only "$TMPD/spec" >/dev/null
	cfg "$TMPD/spec" '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-ok"] | .linux.cgroupsPath = $p' \
		--arg p "$CGPREFIX/spec"
	ct_run spec spec "$TMPD/spec"
	[ $RC -eq 0 ] && grep -qx spec-ok "$OUT" && pass oci-cli-spec || fail oci-cli-spec "the spec's config did not run: exit $RC: $(said)"
fi

# features: JSON naming the version range, all six hooks and (on Linux) the namespaces.
feat=$(rt features 2>"$TMPD/features.err")
if ! jq_true '.ociVersionMin and .ociVersionMax' <<<"$feat"; then
	fail oci-cli-features "no ociVersionMin/Max: $(head -c 200 <<<"$feat") $(head -c 200 "$TMPD/features.err")"
elif ! jq_true '[.hooks[]?] | contains(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])' \
	<<<"$feat"; then
	fail oci-cli-features "hooks list incomplete: $(jq -c .hooks <<<"$feat")"
elif ! jq_true '[.linux.namespaces[]?] | contains(["pid", "network", "ipc", "uts", "mount", "user", "cgroup"])' \
	<<<"$feat"; then
	fail oci-cli-features "linux.namespaces incomplete: $(jq -c .linux.namespaces <<<"$feat")"
else
	pass oci-cli-features
fi

# --log FILE --log-format json: a failed create is logged as a JSON object with level and msg.
new_bundle logjson -- true
cfg "$BUNDLE" '.root.path = "no-such-rootfs"'
track logjson
"$RUNTIME" --root "$ROOT" --log "$TMPD/log.json" --log-format json create --bundle "$BUNDLE" logjson >/dev/null 2>&1 </dev/null
rc=$?
if [ $rc -eq 0 ]; then
	fail oci-cli-log-json "create with a missing rootfs succeeded"
elif ! jq -e -s 'map(select(.level == "error" and (.msg | type == "string") and (.msg | length > 0))) | length > 0' \
	"$TMPD/log.json" >/dev/null 2>&1; then
	fail oci-cli-log-json "no JSON error line in the log: $(head -c 300 "$TMPD/log.json" 2>/dev/null)"
else
	pass oci-cli-log-json
fi

# create --pid-file: the file holds the state's pid.
new_bundle pidfile -- sleep 60
track pidfile
timeout 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" --pid-file "$TMPD/ct.pid" pidfile >/dev/null 2>&1 </dev/null
[ -s "$TMPD/ct.pid" ] && [ "$(cat "$TMPD/ct.pid")" = "$(ct_pid pidfile)" ] && pass oci-cli-pid-file ||
	fail oci-cli-pid-file "pid file '$(cat "$TMPD/ct.pid" 2>/dev/null)', state pid '$(ct_pid pidfile)'"

# kill --all reaches every process of the container (an exec'd one too). The init is sleep as
# pid 1, which has no TERM handler, so TERM cannot reach it, only the exec'd sleep; a kill
# without --all (or one that signals only the init) leaves the exec'd sleep alive.
rt start pidfile >/dev/null 2>&1
wait_status pidfile running 50
timeout 20 "$RUNTIME" --root "$ROOT" exec --detach --pid-file "$TMPD/exec.pid" pidfile sleep 60 >/dev/null 2>&1
epid=$(cat "$TMPD/exec.pid" 2>/dev/null)
ipid=$(ct_pid pidfile)
if ! [[ "$epid" =~ ^[0-9]+$ ]] || ! [ -r "/proc/$epid/cmdline" ]; then
	fail oci-cli-kill-all "exec --detach gave no live process (pid file '$epid')"
elif ! rt kill --all pidfile TERM >"$TMPD/killall.out" 2>&1; then
	fail oci-cli-kill-all "kill --all TERM: $(head -c 300 "$TMPD/killall.out")"
elif ! gone "$epid"; then
	fail oci-cli-kill-all "the exec'd process $epid survived kill --all TERM"
elif [ "$(ct_state pidfile)" != running ] || ! [ -r "/proc/$ipid/cmdline" ]; then
	fail oci-cli-kill-all "status $(ct_state pidfile), init $ipid: want the init (ignoring TERM) still running"
else
	rt kill --all pidfile KILL >/dev/null 2>&1
	if wait_status pidfile stopped && gone "$ipid"; then
		pass oci-cli-kill-all
	else
		fail oci-cli-kill-all "status $(ct_state pidfile) after kill --all KILL, init $ipid $(gone "$ipid" || echo alive)"
	fi
fi
rt delete --force pidfile >/dev/null 2>&1

# exec --env --cwd --user
new_bundle execflags -- sleep 60
ct_create execflags "$BUNDLE"
rt start execflags >/dev/null 2>&1
out=$(timeout 20 "$RUNTIME" --root "$ROOT" exec --env FOO=bar --cwd /tmp --user 1:1 execflags \
	/bin/sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"' 2>&1)
[ "$out" = "bar /tmp 1:1" ] && pass oci-cli-exec-flags || fail oci-cli-exec-flags "got '$out', want 'bar /tmp 1:1'"
rt delete --force execflags >/dev/null 2>&1

# --preserve-fds 1: fd 3 of the runtime reaches the container's process.
new_bundle fds -- sh -c 'cat <&3'
echo through-fd-3 >"$TMPD/fd3"
track fds
out=$(timeout 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" --preserve-fds 1 fds 3<"$TMPD/fd3" 2>&1 </dev/null)
[ "$out" = through-fd-3 ] && pass oci-cli-preserve-fds || fail oci-cli-preserve-fds "got '$out'"

# --no-pivot (a rootfs on a ramdisk cannot be pivot_root'ed): still runs in the rootfs. To make
# the flag observable, the runtime runs chrooted into a bind of / whose parent mount is shared:
# pivot_root refuses that (EINVAL: the current root's parent mount is shared), and a runtime cannot
# fix it from inside the chroot. The control, the same run without --no-pivot, must fail there.
# nopivot_run ID ARGS...: run in that setup; output in $TMPD/ID.out, status in $RC.
nopivot_run() {
	local id=$1; shift
	track "$id"
	mkdir -p "$TMPD/chroot.$id"
	timeout -k 5 30 unshare -m --propagation private bash -c '
		ch=$1; shift
		mount --rbind / "$ch" || exit 90
		mount --make-shared "$(findmnt -n -o TARGET -T "$(dirname "$ch")")" || exit 91
		exec chroot "$ch" "$@"' nopivot-setup "$TMPD/chroot.$id" \
		"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$@" "$id" >"$TMPD/$id.out" 2>&1 </dev/null
	RC=$?
}
new_bundle nopivot -- sh -c 'ls / | tr "\n" " "'
nopivot_run nopivot --no-pivot
nprc=$RC out=$(cat "$TMPD/nopivot.out")
nopivot_run pivotctl
if [ $RC -eq 0 ] || ! grep -qi 'pivot_root' "$TMPD/pivotctl.out"; then
	fail oci-cli-no-pivot "control without --no-pivot: exit $RC, want a pivot_root error (setup not discriminating): $(head -c 300 "$TMPD/pivotctl.out")"
elif [ $nprc -eq 0 ] && [[ " $out" == *" bin "* ]] && [[ " $out" != *" work "* ]]; then
	pass oci-cli-no-pivot
else
	fail oci-cli-no-pivot "--no-pivot: exit $nprc, ls / gave '$out'"
fi

# run --detach: returns at once, the container runs.
new_bundle detach -- sleep 60
track detach
timeout 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" --detach detach >"$TMPD/detach.out" 2>&1 </dev/null
rc=$?
[ $rc -eq 0 ] && [ "$(ct_state detach)" = running ] && pass oci-cli-run-detach ||
	fail oci-cli-run-detach "exit $rc, status '$(ct_state detach)': $(head -c 300 "$TMPD/detach.out")"
rt delete --force detach >/dev/null 2>&1
