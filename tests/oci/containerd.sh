#!/usr/bin/env bash
# containerd (Debian's 1.6) drives the runtime through its runc.v2 shim, whose BinaryName is the
# runtime under test (`ctr run --runc-binary`): run, run -d, task exec, pause/resume, kill, rm.
# The containerd is private to this suite: its own root, state, socket and config under $TMPD,
# started here (no systemd) and stopped here. The image is the busybox image scripts/podman-setup
# builds, saved by `podman save` and imported with `ctr images import`.
# Proven against the anchor too: RUNTIME=runc bash tests/oci/containerd.sh
source "$(dirname "$0")/common.bash"
oci_require
for t in containerd ctr containerd-shim-runc-v2 podman; do
	command -v "$t" >/dev/null || { skip oci-containerd "$t not installed (scripts/deps)"; exit 0; }
done

case $RUNTIME in
*/*) PRT=$(cd "$(dirname "$RUNTIME")" && pwd)/$(basename "$RUNTIME") ;;
*) PRT=$(command -v "$RUNTIME") ;;
esac

CD=$TMPD/containerd
SOCK=$CD/containerd.sock
NS=capsule-ctrd-$$
RROOT=$CD/runtime-root          # the shim runs the runtime with --root $RROOT/$NS
FIFO=$CD/fifo                   # ctr's stdio FIFOs (default /run/containerd/fifo)
IMG=localhost/capsule-busybox:latest
PD=$TMPD/podman
CPID=
# The shims' ttrpc sockets live in the hardwired /run/containerd/s (containerd 1.6), named by the
# sha256 of "<containerd address>/<namespace>/<id>": this suite's are known by name.
RUNDIR_EXISTED=0
[ -d /run/containerd ] && RUNDIR_EXISTED=1
IDS="ctrd-run ctrd-exit ctrd-d"
shim_socket() { echo "/run/containerd/s/$(printf '%s' "$SOCK/$NS/$1" | sha256sum | cut -d' ' -f1)"; }

c() { timeout -k 5 60 ctr --address "$SOCK" --namespace "$NS" "$@" </dev/null; }
# Processes started for this suite: containerd itself and the shims it spawned (which name our
# socket on their command lines).
our_pids() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		grep -qaF -- "$CD/" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done
}
ctrd_stop() {
	[ -n "$CPID" ] || return 0
	kill -TERM "$CPID" 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	CPID=
}
ctrd_cleanup() {
	local id p
	if [ -n "$CPID" ]; then
		for id in $(c task ls -q 2>/dev/null); do c task kill -s SIGKILL "$id" >/dev/null 2>&1; done
		sleep 0.2
		for id in $(c container ls -q 2>/dev/null); do
			c task rm -f "$id" >/dev/null 2>&1
			c container rm "$id" >/dev/null 2>&1
		done
		c images rm "$IMG" >/dev/null 2>&1
	fi
	ctrd_stop
	for p in $(our_pids); do kill -KILL "$p" 2>/dev/null; done
	# This suite's shim sockets (a shim removes its own when it exits cleanly), and the
	# directories under /run/containerd if this suite made them.
	for id in $IDS; do rm -f "$(shim_socket "$id")"; done
	if [ $RUNDIR_EXISTED -eq 0 ]; then
		rmdir /run/containerd/s /run/containerd/runc /run/containerd/fifo /run/containerd 2>/dev/null
	fi
	"$CAPSULE_ROOT/scripts/podman-setup" --clean "$PD" >/dev/null 2>&1
	oci_cleanup
}
trap ctrd_cleanup EXIT

# --- docs/containerd.md's config snippet (the CRI runtime "capsule"), as it stands in the file:
# containerd parses it and keeps the runtime type and BinaryName (Debian packages no crictl to run
# a pod through it)
mkdir -p "$CD"
{
	printf 'version = 2\nroot = "%s"\nstate = "%s"\n' "$CD/snippet-root" "$CD/snippet-state"
	awk '/^```toml$/ { on = 1; next } /^```$/ { if (on) exit } on' "$CAPSULE_ROOT/docs/containerd.md"
} >"$CD/snippet.toml"
dump=$(timeout -k 5 30 containerd --config "$CD/snippet.toml" config dump 2>&1)
rc=$?
rt_block=$(awk '/^ *\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.capsule\]$/ { on = 1 }
	on && /^ *\[/ && !/runtimes\.capsule/ { exit } on' <<<"$dump")
if ! grep -q BinaryName "$CD/snippet.toml"; then
	fail oci-containerd-config-snippet "no toml block with BinaryName in docs/containerd.md"
elif [ $rc -ne 0 ]; then
	fail oci-containerd-config-snippet "containerd config dump: exit $rc: $(head -c 300 <<<"$dump")"
elif ! grep -q 'runtime_type = "io.containerd.runc.v2"' <<<"$rt_block" ||
     ! grep -q 'BinaryName = "[^"]*capsule-runtime"' <<<"$rt_block"; then
	fail oci-containerd-config-snippet "runtime capsule not as documented: $(tr -s ' \n' ' ' <<<"$rt_block" | head -c 300)"
else
	pass oci-containerd-config-snippet
fi
rm -rf "$CD/snippet-root" "$CD/snippet-state"

# --- a private containerd: only what ctr run needs (no CRI, no btrfs/zfs/aufs/devmapper, no /opt)
mkdir -p "$CD" "$RROOT" "$FIFO"
cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
EOF
containerd --config "$CD/config.toml" >"$CD/containerd.log" 2>&1 </dev/null &
CPID=$!
up=0
for ((i = 0; i < 100; i++)); do
	kill -0 "$CPID" 2>/dev/null || break
	if [ -S "$SOCK" ] && c version >/dev/null 2>&1; then up=1; break; fi
	sleep 0.1
done
if [ $up -eq 0 ]; then
	skip oci-containerd "containerd does not start here: $(grep -v '^\s*$' "$CD/containerd.log" | tail -n 2 | tr '\n' ' ' | head -c 300)"
	exit 0
fi
pass oci-containerd-start

# --- the image: podman-setup's busybox image, podman save, ctr images import
if ! env=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup.err"); then
	fail oci-containerd-import "scripts/podman-setup failed: $(tail -c 300 "$TMPD/setup.err")"
	exit 0
fi
eval "$env"
# podman 4.3 writes a blob-info cache to the hardwired /var/lib/containers/cache on every image
# copy, save included: save in a private mount namespace with a scratch /var/lib (as podman-setup
# imports).
unshare -m --propagation private sh -c 'mount -t tmpfs -o size=16m capsule-scratch /var/lib &&
	exec podman save --quiet --format docker-archive -o "$1" "$2"' sh "$TMPD/busybox.tar" "$PODMAN_IMAGE" \
	>"$TMPD/save.out" 2>&1 </dev/null
rc=$?
c images import "$TMPD/busybox.tar" >"$TMPD/import.out" 2>&1
irc=$?
if [ $rc -ne 0 ]; then
	fail oci-containerd-import "podman save: exit $rc: $(tail -c 300 "$TMPD/save.out")"; exit 0
elif [ $irc -ne 0 ] || ! c images ls -q | grep -qxF "$IMG"; then
	fail oci-containerd-import "ctr images import: exit $irc: $(tail -c 300 "$TMPD/import.out" | tr '\n' ' ')"; exit 0
fi
pass oci-containerd-import
# podman's part is done (its overlay storage keeps a mount of its own under $PD): clean it now,
# so that what is mounted under $TMPD from here on is containerd's.
"$CAPSULE_ROOT/scripts/podman-setup" --clean "$PD" >/dev/null 2>&1
rm -f "$TMPD/busybox.tar"

# ctrun ID [ctr run options --] ARGS...: ctr run with the runc.v2 shim and the runtime under test,
# cgroupsPath under the suite's prefix (cleaned by common.bash).
ctrun() {
	local id=$1 opts=(); shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	c run --runtime io.containerd.runc.v2 --runc-binary "$PRT" --runc-root "$RROOT" \
		--fifo-dir "$FIFO" --cgroup "$CGPREFIX/$id" "${opts[@]}" "$IMG" "$id" "$@"
}
rtst() { "$PRT" --root "$RROOT/$NS" state "$1" 2>/dev/null | jq -r ".${2:-status}" 2>/dev/null; }
task_status() { c task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
wait_task() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		[ "$(task_status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- run --rm: output and exit status come back; nothing of the container stays
out=$(ctrun ctrd-run --rm -- sh -c 'echo "hello from $(cat /proc/1/comm)"' 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ "$out" != "hello from sh" ]; then
	fail oci-containerd-run "exit $rc, output '$(head -c 300 <<<"$out")'"
elif c container ls -q | grep -qx ctrd-run || [ -e "$RROOT/$NS/ctrd-run" ]; then
	fail oci-containerd-run "--rm left the container or its runtime state"
else
	pass oci-containerd-run
fi
out=$(ctrun ctrd-exit --rm -- sh -c 'exit 7' 2>&1)
rc=$?
[ $rc -eq 7 ] && pass oci-containerd-exit-code || fail oci-containerd-exit-code "exit $rc, want 7: $out"

# --- run -d: the task runs, and the runtime itself knows it as running with the same pid
ctrun ctrd-d -d -- sleep 300 >"$TMPD/d.out" 2>&1
rc=$?
pid=$(c task ls 2>/dev/null | awk '$1 == "ctrd-d" { print $2 }')
if [ $rc -ne 0 ] || ! wait_task ctrd-d RUNNING; then
	fail oci-containerd-detach "exit $rc, task status '$(task_status ctrd-d)': $(head -c 300 "$TMPD/d.out")"
elif [ "$(rtst ctrd-d)" != running ] || [ "$(rtst ctrd-d pid)" != "$pid" ]; then
	fail oci-containerd-detach "runtime state: '$("$PRT" --root "$RROOT/$NS" state ctrd-d 2>&1 | head -c 300)', task pid $pid"
elif ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^sleep 300'; then
	fail oci-containerd-detach "pid $pid does not run 'sleep 300'"
else
	pass oci-containerd-detach
fi
# (the clean check below looks for the shim sockets by name: make sure the name is right)
SHIM_SEEN=0
[ -S "$(shim_socket ctrd-d)" ] && SHIM_SEEN=1

# --- task exec: joins the container (its pid 1 is the sleep), output and exit status come back
out=$(c task exec --exec-id e1 --fifo-dir "$FIFO" ctrd-d sh -c 'echo from-exec; tr "\0" " " </proc/1/cmdline' 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -qx from-exec <<<"$out" && grep -q '^sleep 300' <<<"$out"; then
	pass oci-containerd-exec
else
	fail oci-containerd-exec "exit $rc: $(head -c 300 <<<"$out")"
fi
c task exec --exec-id e2 --fifo-dir "$FIFO" ctrd-d sh -c 'exit 5' >/dev/null 2>&1
rc=$?
[ $rc -eq 5 ] && pass oci-containerd-exec-exit-code || fail oci-containerd-exec-exit-code "exit $rc, want 5"

# --- pause / resume: ctr, the runtime's state and the freezer agree
freezer_state() {
	local rel
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)
		case $(cat "/sys/fs/cgroup$rel/cgroup.freeze" 2>/dev/null) in 1) echo FROZEN ;; 0) echo THAWED ;; esac
	else
		rel=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)
		cat "/sys/fs/cgroup/freezer$rel/freezer.state" 2>/dev/null
	fi
}
c task pause ctrd-d >"$TMPD/pause.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! wait_task ctrd-d PAUSED; then
	fail oci-containerd-pause "exit $rc, task status '$(task_status ctrd-d)': $(head -c 300 "$TMPD/pause.out")"
elif [ "$(rtst ctrd-d)" != paused ] || [ "$(freezer_state)" != FROZEN ]; then
	fail oci-containerd-pause "runtime status '$(rtst ctrd-d)', freezer '$(freezer_state)'"
else
	pass oci-containerd-pause
fi
c task resume ctrd-d >"$TMPD/resume.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! wait_task ctrd-d RUNNING; then
	fail oci-containerd-resume "exit $rc, task status '$(task_status ctrd-d)': $(head -c 300 "$TMPD/resume.out")"
elif [ "$(rtst ctrd-d)" != running ] || [ "$(freezer_state)" != THAWED ]; then
	fail oci-containerd-resume "runtime status '$(rtst ctrd-d)', freezer '$(freezer_state)'"
elif ! out=$(c task exec --exec-id e3 --fifo-dir "$FIFO" ctrd-d echo thawed 2>&1) || [ "$out" != thawed ]; then
	fail oci-containerd-resume "exec after resume: '$out'"
else
	pass oci-containerd-resume
fi

# --- kill: the task stops (sleep as pid 1 ignores SIGTERM, as on any runtime: SIGKILL)
c task kill -s SIGKILL ctrd-d >"$TMPD/kill.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! wait_task ctrd-d STOPPED; then
	fail oci-containerd-kill "exit $rc, task status '$(task_status ctrd-d)': $(head -c 300 "$TMPD/kill.out")"
elif [ "$(rtst ctrd-d)" != stopped ] || ! gone "$pid"; then
	fail oci-containerd-kill "runtime status '$(rtst ctrd-d)', pid $pid still there"
else
	pass oci-containerd-kill
fi

# --- rm: task and container gone, and with them the runtime state, the cgroup, the bundle and
# its rootfs mount
c task rm ctrd-d >"$TMPD/rm.out" 2>&1
rc=$?
c container rm ctrd-d >>"$TMPD/rm.out" 2>&1
rc2=$?
bundle=$CD/state/io.containerd.runtime.v2.task/$NS/ctrd-d
left=""
c container ls -q | grep -qx ctrd-d && left+="container; "
[ -e "$RROOT/$NS/ctrd-d" ] && left+="runtime state $RROOT/$NS/ctrd-d; "
[ -e "$bundle" ] && left+="bundle $bundle; "
for d in /sys/fs/cgroup/*/"$CGPREFIX"/ctrd-d /sys/fs/cgroup/"$CGPREFIX"/ctrd-d; do
	[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
	[ -d "$d" ] && left+="cgroup $d; "
done
grep -qF " $bundle" /proc/self/mountinfo && left+="rootfs mount; "
if [ $rc -ne 0 ] || [ $rc2 -ne 0 ]; then
	fail oci-containerd-rm "exit $rc/$rc2: $(head -c 300 "$TMPD/rm.out")"
elif [ -n "$left" ]; then
	fail oci-containerd-rm "left: $left"
else
	pass oci-containerd-rm
fi

# --- nothing left once containerd is gone: no process, no mount under $TMPD, no cgroup under
# the suite's prefix, no runtime state, no shim socket
c images rm "$IMG" >/dev/null 2>&1
ctrd_stop
sleep 0.2
left=""
for p in $(our_pids); do left+="process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | head -c 80)); "; done
m=$(awk -v t="$TMPD/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | head -n 3 | tr '\n' ' ')
[ -n "$m" ] && left+="mounts $m; "
for d in /sys/fs/cgroup/*/"$CGPREFIX" /sys/fs/cgroup/"$CGPREFIX"; do
	[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
	[ -d "$d" ] && [ -n "$(find "$d" -mindepth 1 -type d 2>/dev/null | head -n1)" ] && left+="cgroups in $d; "
done
[ -n "$(ls -A "$RROOT/$NS" 2>/dev/null)" ] && left+="runtime state $(ls -A "$RROOT/$NS" | tr '\n' ' '); "
[ -n "$(ls -A "$CD/state/io.containerd.runtime.v2.task/$NS" 2>/dev/null)" ] && left+="task bundles; "
for id in $IDS; do [ -e "$(shim_socket "$id")" ] && left+="shim socket $(shim_socket "$id") ($id); "; done
[ $SHIM_SEEN -eq 1 ] || left+="no shim socket at $(shim_socket ctrd-d) while ctrd-d ran (naming changed?); "
[ -z "$left" ] && pass oci-containerd-clean || fail oci-containerd-clean "$left"
