#!/usr/bin/env bash
# Regression tests for review findings on the OCI runtime (security and behaviour). Each
# malicious bundle is built here; the "host victim" is a directory under $TMPD, never a real
# host path.
source "$(dirname "$0")/common.bash"
oci_require

# --- S1 (CVE-2019-5736): while the init waits in `created` it is still the runtime's binary;
# a process exec'd into the container must not be able to open /proc/1/exe (or its memory).
# In a user namespace with every capability the exec'd process passes ptrace's uid and
# capability checks against the init; only the init being non-dumpable stops it.
new_bundle dumpable -- true
cfg "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]
	| .process.capabilities |= map_values([range(0; 41)] | map("CAP_" + (["CHOWN","DAC_OVERRIDE","DAC_READ_SEARCH","FOWNER","FSETID","KILL","SETGID","SETUID","SETPCAP","LINUX_IMMUTABLE","NET_BIND_SERVICE","NET_BROADCAST","NET_ADMIN","NET_RAW","IPC_LOCK","IPC_OWNER","SYS_MODULE","SYS_RAWIO","SYS_CHROOT","SYS_PTRACE","SYS_PACCT","SYS_ADMIN","SYS_BOOT","SYS_NICE","SYS_RESOURCE","SYS_TIME","SYS_TTY_CONFIG","MKNOD","LEASE","AUDIT_WRITE","AUDIT_CONTROL","SETFCAP","MAC_OVERRIDE","MAC_ADMIN","SYSLOG","WAKE_ALARM","BLOCK_SUSPEND","AUDIT_READ","PERFMON","BPF","CHECKPOINT_RESTORE"][.])))'
chmod 755 "$TMPD"
ct_create dumpable "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-init-not-dumpable "create exit $RC: $(head -c 300 "$TMPD/dumpable.create")"
else
	OUT=$TMPD/dumpable.out
	timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec dumpable sh -c \
		'cat /proc/1/exe >/dev/null 2>&1 && echo exe-readable; head -c1 /proc/1/mem >/dev/null 2>&1 && echo mem-readable;
		 readlink /proc/1/exe >/dev/null 2>&1 && echo exe-link; echo done' >"$OUT" 2>&1 </dev/null
	if ! grep -qx done "$OUT"; then
		fail oci-init-not-dumpable "exec failed: $(said)"
	elif grep -q 'exe-' "$OUT"; then
		fail oci-init-not-dumpable "the container can open the runtime binary through /proc/1/exe: $(said)"
	else
		pass oci-init-not-dumpable
	fi
fi
rt delete --force dumpable >/dev/null 2>&1

# --- S1 (privileged): with CAP_SYS_PTRACE the container passes ptrace's checks whatever the
# dumpable flag; the init (and exec's child) must then be a sealed copy of the runtime, not
# the host's file: /proc/1/exe is a memfd, and cannot be written.
ALLCAPS='[range(0; 41)] | map("CAP_" + (["CHOWN","DAC_OVERRIDE","DAC_READ_SEARCH","FOWNER","FSETID","KILL","SETGID","SETUID","SETPCAP","LINUX_IMMUTABLE","NET_BIND_SERVICE","NET_BROADCAST","NET_ADMIN","NET_RAW","IPC_LOCK","IPC_OWNER","SYS_MODULE","SYS_RAWIO","SYS_CHROOT","SYS_PTRACE","SYS_PACCT","SYS_ADMIN","SYS_BOOT","SYS_NICE","SYS_RESOURCE","SYS_TIME","SYS_TTY_CONFIG","MKNOD","LEASE","AUDIT_WRITE","AUDIT_CONTROL","SETFCAP","MAC_OVERRIDE","MAC_ADMIN","SYSLOG","WAKE_ALARM","BLOCK_SUSPEND","AUDIT_READ","PERFMON","BPF","CHECKPOINT_RESTORE"][.])) | map(select(. as $c | $bnd | index($c)))'
# (only what our own bounding set has: a sandbox may lack some)
bnd=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" 2>/dev/null | sed 's/.*=//' | tr a-z A-Z)
new_bundle sealed -- true
cfg "$BUNDLE" ".process.capabilities |= map_values($ALLCAPS)" --arg bnd "${bnd:-CAP_SYS_PTRACE}"
ct_create sealed "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-init-sealed-binary "create exit $RC: $(head -c 300 "$TMPD/sealed.create")"
elif ! is_capsule; then
	skip oci-init-sealed-binary "capsule-specific (memfd name)"
else
	OUT=$TMPD/sealed.out
	timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec sealed sh -c \
		'echo "exe=$(readlink /proc/1/exe)"; (echo x >>/proc/1/exe) 2>/dev/null && echo written; echo done' \
		>"$OUT" 2>&1 </dev/null
	if ! grep -qx done "$OUT"; then
		fail oci-init-sealed-binary "exec failed: $(said)"
	elif grep -qx written "$OUT"; then
		fail oci-init-sealed-binary "the container wrote the runtime's binary: $(said)"
	elif ! grep -q '^exe=/memfd:' "$OUT"; then
		fail oci-init-sealed-binary "the init runs the host's binary file: $(said)"
	else
		pass oci-init-sealed-binary
	fi
fi
rt delete --force sealed >/dev/null 2>&1

# --- S2: an image whose /dev is an absolute symlink to a host directory ($TMPD/victim here)
# that also exists inside the rootfs. The /dev tmpfs lands inside the rootfs; the device
# nodes, /dev/ptmx and the linux.devices entry must too, and the host files stay as they were.
new_bundle devlink -- sh -c 'test -c /dev/null && test -c /dev/mydev && test -L /dev/ptmx && echo in-ok'
VICTIM=$TMPD/victim
mkdir -p "$VICTIM" "$BUNDLE/rootfs$VICTIM"
for f in null zero tty ptmx mydev stdin; do echo precious >"$VICTIM/$f"; done
rm -rf "$BUNDLE/rootfs/dev"
ln -s "$VICTIM" "$BUNDLE/rootfs/dev"
cfg "$BUNDLE" '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}]
	| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
ct_run devlink devlink "$BUNDLE"
bad=""
for f in null zero tty ptmx mydev stdin; do
	{ [ -f "$VICTIM/$f" ] && [ ! -L "$VICTIM/$f" ] && [ "$(cat "$VICTIM/$f")" = precious ]; } || bad+="$f "
done
[ "$(ls -A "$VICTIM" | wc -l)" -eq 6 ] || bad+="(new entries) "
if [ -n "$bad" ]; then
	fail oci-dev-symlink-host "host files under the symlink target replaced: $bad($(ls -l "$VICTIM" | tr '\n' '|'))"
elif [ $RC -ne 0 ] || ! grep -qx in-ok "$OUT"; then
	fail oci-dev-symlink-host "host safe, but the container did not get its devices: exit $RC: $(said)"
else
	pass oci-dev-symlink-host
fi

# --- S3: exec runs with the confinement the container was created with, whatever happens to
# the bundle: not without seccomp when config.json is replaced or gone.
new_bundle noconfig -- sleep 30
cfg "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
ct_create noconfig "$BUNDLE"
MKDIR='mkdir /tmp/d$$ 2>/dev/null; echo rc=$?'
if [ $RC -ne 0 ]; then
	fail oci-exec-confined-as-created "create exit $RC: $(head -c 300 "$TMPD/noconfig.create")"
else
	cfg "$BUNDLE" 'del(.linux.seccomp)'
	changed=$(timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec noconfig sh -c "$MKDIR" 2>&1 </dev/null)
	mv "$BUNDLE/config.json" "$BUNDLE/config.json.away"
	gone=$(timeout -k 5 20 "$RUNTIME" --root "$ROOT" exec noconfig sh -c "$MKDIR" 2>&1 </dev/null)
	grc=$?
	mv "$BUNDLE/config.json.away" "$BUNDLE/config.json"
	if [ "$changed" != rc=1 ]; then
		fail oci-exec-confined-as-created "config.json without seccomp: exec's mkdir said '$changed', want rc=1 (EPERM)"
	elif [ $grc -eq 0 ] && [ "$gone" != rc=1 ]; then
		fail oci-exec-confined-as-created "config.json gone: exec's mkdir said '$gone', want rc=1 or exec to fail"
	else
		pass oci-exec-confined-as-created
	fi
	# A state from before exec's settings were recorded: the bundle's config is needed, and
	# exec fails (runs nothing) when it cannot be loaded.
	if is_capsule; then
		sj=$ROOT/noconfig/state.json
		jq -c 'del(.exec)' "$sj" >"$sj.new" && mv "$sj.new" "$sj"
		mv "$BUNDLE/config.json" "$BUNDLE/config.json.away"
		expect_rt_error oci-exec-no-config 'config\.json' rt exec noconfig sh -c "touch /exec-ran"
		[ -e "$BUNDLE/rootfs/exec-ran" ] && fail oci-exec-no-config-ran "exec ran the process without its config"
		mv "$BUNDLE/config.json.away" "$BUNDLE/config.json"
	fi
fi
rt delete --force noconfig >/dev/null 2>&1

# --- S5: a descriptor the runtime was started with (fd 7) must not reach the container even
# when the seccomp profile forbids close_range (the runtime marks fds before loading it).
new_bundle fdleak -- sh -c 'for f in /proc/self/fd/*; do echo "fd ${f##*/} -> $(readlink "$f")"; done'
cfg "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	"syscalls": [{"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
echo secret >"$TMPD/secret"
track fdleak
OUT=$TMPD/fdleak.out
timeout -k 5 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" fdleak >"$OUT" 2>&1 </dev/null 7<"$TMPD/secret"
RC=$?
if [ $RC -ne 0 ] || ! grep -q '^fd 0 ' "$OUT"; then
	fail oci-fds-closed-seccomp "exit $RC: $(said)"
elif grep -q 'secret' "$OUT"; then
	fail oci-fds-closed-seccomp "the runtime's fd 7 reached the container: $(said)"
else
	pass oci-fds-closed-seccomp
fi

# --- B1: `run` blocks the signals it forwards; neither the container's program nor a hook
# may inherit that mask (runc starts both with SigBlk 0).
new_bundle sigmask -- grep SigBlk /proc/self/status
# The hook is grep itself (a shell might reset its mask): its line is the one with the file name.
cfg "$BUNDLE" '.hooks = {"prestart": [{"path": $g, "args": ["grep", "-H", "SigBlk", "/proc/self/status"]}]}' \
	--arg g "$(command -v grep)"
ct_run sigmask sigmask "$BUNDLE"
prog=$(awk '/^SigBlk/ { print $2 }' "$OUT")
hook=$(awk '/^\/proc\/self\/status:SigBlk/ { print $2 }' "$OUT")
if [ $RC -ne 0 ] || [ -z "$prog" ] || [ -z "$hook" ]; then
	fail oci-run-sigmask "exit $RC, program '$prog', hook '$hook': $(said)"
elif [ "$prog" != 0000000000000000 ] || [ "$hook" != 0000000000000000 ]; then
	fail oci-run-sigmask "blocked signals: program $prog, hook $hook (want none)"
else
	pass oci-run-sigmask
fi

# --- B7: --help counts only among a command's options; after the id it belongs to the program.
expect_rt_error oci-help-after-args 'nosuch does not exist' rt exec nosuch ls --help
OUT=$TMPD/help.out
rt run --help >"$OUT" 2>&1 && grep -q '^Usage' "$OUT" && pass oci-help-in-options ||
	fail oci-help-in-options "run --help: $(said)"

# --- B8: update --memory takes units like runc (512m = 512 MiB, not 512 bytes); junk is refused.
new_bundle upd -- sleep 30
ct_create upd "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-update-memory-units "create exit $RC: $(head -c 300 "$TMPD/upd.create")"
else
	rt update --memory 512m upd >"$TMPD/upd.out" 2>&1
	urc=$?
	lim=$(cat "$(cg_dir memory "$CGPREFIX/upd")/memory.limit_in_bytes" 2>/dev/null ||
	      cat "/sys/fs/cgroup$CGPREFIX/upd/memory.max" 2>/dev/null)
	if [ $urc -ne 0 ]; then
		fail oci-update-memory-units "update exit $urc: $(head -c 300 "$TMPD/upd.out")"
	elif [ "$lim" != 536870912 ]; then
		fail oci-update-memory-units "memory limit '$lim' after --memory 512m, want 536870912"
	else
		pass oci-update-memory-units
	fi
	# a malformed command line: exit status 2 (docs/oci-runtime.md)
	is_capsule && expect_error oci-update-junk 2 "^capsule: update: --memory: invalid size '512x'" \
		"$RUNTIME" --root "$ROOT" update --memory 512x upd
fi
rt delete --force upd >/dev/null 2>&1

# --- B3: delete removes sub-cgroups the container made (and kills their processes) and fails
# rather than exit 0 when its cgroup stays.
new_bundle subcg -- sleep 60
ct_create subcg "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-delete-subcgroups "create exit $RC: $(head -c 300 "$TMPD/subcg.create")"
else
	sleep 300 </dev/null >/dev/null 2>&1 &
	victim=$!
	for d in /sys/fs/cgroup/*/"$CGPREFIX"/subcg /sys/fs/cgroup/"$CGPREFIX"/subcg; do
		[ -d "$d" ] || continue
		mkdir -p "$d/sub/deeper" && echo $victim >"$d/sub/deeper/cgroup.procs" 2>/dev/null
	done
	rt delete --force subcg >"$TMPD/subcg.del" 2>&1
	drc=$?
	left=$(leftovers subcg "$BUNDLE")
	if [ $drc -ne 0 ]; then
		fail oci-delete-subcgroups "delete exit $drc: $(head -c 300 "$TMPD/subcg.del")"
	elif [ -n "$left" ]; then
		fail oci-delete-subcgroups "left behind: $left"
	elif ! gone $victim; then
		fail oci-delete-subcgroups "the process in a sub-cgroup survived"
	else
		pass oci-delete-subcgroups
	fi
	kill -9 $victim 2>/dev/null; wait $victim 2>/dev/null
fi

# --- B3 ('made'): a create that fails removes only the cgroups it made, not one that was there.
new_bundle precg -- /no/such/program
made_dirs=()
for h in /sys/fs/cgroup/*/; do
	[ -e "$h/cgroup.procs" ] || continue
	h=${h%/}
	mkdir -p "$h$CGPREFIX/precg" && made_dirs+=("$h$CGPREFIX/precg")
done
ct_create precg "$BUNDLE"
missing=""
for d in "${made_dirs[@]}"; do [ -d "$d" ] || missing+="$d "; done
if [ $RC -eq 0 ]; then
	fail oci-create-keeps-foreign-cgroup "create of a missing program succeeded"
elif [ ${#made_dirs[@]} -eq 0 ]; then
	skip oci-create-keeps-foreign-cgroup "no cgroup hierarchy to pre-create in"
elif [ -n "$missing" ]; then
	fail oci-create-keeps-foreign-cgroup "the failed create removed cgroups it did not make: $missing"
else
	pass oci-create-keeps-foreign-cgroup
fi

# --- B4: run's poststart hooks come after the program was exec'd (as start's do): the hook
# sees the container's program in /proc/PID/cmdline, not the runtime. (A startContainer hook
# holds the init back before its exec, so a poststart run too early sees the runtime.)
new_bundle poststart -- sleep 2
cat >"$TMPD/poststart-hook" <<HOOK
#!/bin/sh
pid=\$(jq -r .pid)
tr '\\0' ' ' </proc/\$pid/cmdline >"$TMPD/poststart-hook.out"
HOOK
chmod +x "$TMPD/poststart-hook"
cfg "$BUNDLE" '.hooks = {"poststart": [{"path": $h}],
	"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "1"]}]}' --arg h "$TMPD/poststart-hook"
ct_run poststart poststart "$BUNDLE"
seen=$(cat "$TMPD/poststart-hook.out" 2>/dev/null)
if [ $RC -ne 0 ]; then
	fail oci-run-poststart-after-exec "exit $RC: $(said)"
elif [ "$seen" != "sleep 2 " ]; then
	fail oci-run-poststart-after-exec "poststart saw '$seen', want the program 'sleep 2'"
else
	pass oci-run-poststart-after-exec
fi

# --- B6: a hook that neither reads its stdin nor exits, given a state larger than a pipe
# (a 200 KB annotation), is killed at its timeout instead of hanging the runtime.
new_bundle bighook -- true
cfg "$BUNDLE" '.annotations = {"big": ("x" * 200000)} | .hooks = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "60"], "timeout": 1}]}'
expect_rt_error oci-hook-timeout-big-state 'timed out' rt run --bundle "$BUNDLE" bighook
track bighook

# --- error text once: a cgroup write the kernel refuses says its reason once, not
# "Device or resource busy: Device or resource busy".
if is_capsule && [ -e "$(cg_dir memory /)/memory.limit_in_bytes" ]; then
	new_bundle errtwice -- sh -c 'x=$(head -c 2000000 /dev/zero | tr "\0" a); sleep 30'
	ct_create errtwice "$BUNDLE"
	rt start errtwice >/dev/null 2>&1
	wait_status errtwice running 50
	rt update --memory 4k errtwice >"$TMPD/errtwice.out" 2>&1
	urc=$?
	msg=$(head -c 400 "$TMPD/errtwice.out" | tr '\n' '|')
	if [ $urc -eq 0 ]; then
		skip oci-error-reason-once "the kernel accepted a 4 KiB limit"
	elif grep -Eq '(: [A-Z][a-z ]+)\1' "$TMPD/errtwice.out"; then
		fail oci-error-reason-once "reason repeated: $msg"
	else
		pass oci-error-reason-once
	fi
	rt delete --force errtwice >/dev/null 2>&1
fi

# --- B2: joining a user namespace by path: the namespaces the container creates belong to
# it (so the container's root may set its hostname), and uidMappings are accepted with it.
chmod 755 "$TMPD"
new_bundle uholder -- sleep 30
cfg "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .mounts |= map(select(.type != "cgroup"))'
chown -R 100000:100000 "$BUNDLE/rootfs"
ct_create uholder "$BUNDLE"
upid=$(ct_pid uholder)
new_bundle ujoin -- sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/uts; hostname; id -u'
cfg "$BUNDLE" '.linux.namespaces += [{"type": "user", "path": $p}] | .hostname = "joined"
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .mounts |= map(select(.type != "cgroup"))' --arg p "/proc/$upid/ns/user"
chown -R 100000:100000 "$BUNDLE/rootfs"
if [ -z "$upid" ] || [ "$upid" = null ]; then
	fail oci-join-userns-path "holder not created: $(head -c 300 "$TMPD/uholder.create")"
else
	ct_run ujoin ujoin "$BUNDLE"
	if [ $RC -ne 0 ]; then
		fail oci-join-userns-path "exit $RC: $(said)"
	elif [ "$(sed -n 1p "$OUT")" != "$(ns_inode "$upid" user)" ]; then
		fail oci-join-userns-path "not in the holder's user namespace: $(said)"
	elif [ "$(sed -n 2p "$OUT")" = "$(ns_inode "$upid" uts)" ] || [ "$(sed -n 3p "$OUT")" != joined ] ||
	     [ "$(sed -n 4p "$OUT")" != 0 ]; then
		fail oci-join-userns-path "want its own uts namespace, hostname 'joined', uid 0: $(said)"
	else
		pass oci-join-userns-path
	fi
fi
rt delete --force uholder >/dev/null 2>&1

# --- The hybrid host's unified cgroup2 mount hidden by a tmpfs in a private mount namespace
# (what tests/oci/common.bash does for crun): mountinfo still lists it, and the runtime used
# to trust that and fail with "cannot open /sys/fs/cgroup/unified/<id>/cgroup.procs". Only
# hierarchies that are really reachable (statfs magic) may be used.
if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" != cgroup2fs ]; then
	skip oci-cgroup-hidden-unified "no hybrid unified cgroup2 mount on this host"
else
	new_bundle hidden -- sh -c 'cat /proc/self/cgroup; echo hidden-ok'
	track hidden
	OUT=$TMPD/hidden.out
	timeout -k 5 30 unshare -m --propagation private bash -c \
		'mount -t tmpfs -o size=1m capsule-hide /sys/fs/cgroup/unified &&
		 exec "$0" --root "$1" run --bundle "$2" hidden' "$RUNTIME" "$ROOT" "$BUNDLE" >"$OUT" 2>&1 </dev/null
	RC=$?
	if [ $RC -ne 0 ] || ! grep -qx hidden-ok "$OUT"; then
		fail oci-cgroup-hidden-unified "run with the unified mount hidden: exit $RC: $(said)"
	elif ! grep -q "^[0-9]*:memory:$CGPREFIX/hidden\$" "$OUT"; then
		fail oci-cgroup-hidden-unified "the container is not in its memory cgroup: $(said)"
	elif [ -d "/sys/fs/cgroup/memory$CGPREFIX/hidden" ] || [ -d "/sys/fs/cgroup/unified$CGPREFIX/hidden" ]; then
		fail oci-cgroup-hidden-unified "the container's cgroup is left behind"
	else
		pass oci-cgroup-hidden-unified
	fi
fi
